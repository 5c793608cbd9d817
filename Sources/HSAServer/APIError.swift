import Foundation
import NIOHTTP1

/// An error answered in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`,
/// with its HTTP status; the official clients turn these into their typed exceptions.
struct APIError: Error, Sendable {
    let status: HTTPResponseStatus
    let message: String
    let type: String
    let param: String?
    let code: String?

    /// 400: a field is missing, of the wrong type or out of range.
    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(
            status: .badRequest, message: message, type: "invalid_request_error", param: param,
            code: code)
    }

    /// 404: a model id the server does not list.
    static func unknownModel(_ id: String, known: [String]) -> APIError {
        APIError(
            status: .notFound,
            message: "The model '\(id)' does not exist; this server has: "
                + known.joined(separator: ", "),
            type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    /// 401: no key or a wrong one.
    static let unauthorized = APIError(
        status: .unauthorized,
        message: "Incorrect or missing API key; send it as 'Authorization: Bearer KEY'",
        type: "invalid_request_error", param: nil, code: "invalid_api_key")

    /// 413: a body over the limit.
    static func tooLarge(limit: Int) -> APIError {
        APIError(
            status: .payloadTooLarge,
            message: "The request body is larger than this server's limit of \(limit) bytes",
            type: "invalid_request_error", param: nil, code: "request_too_large")
    }

    /// 429: every worker busy and the queue full.
    static let queueFull = APIError(
        status: .tooManyRequests,
        message: "The server is busy (every worker running, the queue full); retry later",
        type: "server_busy", param: nil, code: "queue_full")

    /// 408: the request did not arrive in time.
    static let readTimeout = APIError(
        status: .requestTimeout, message: "The request was not received in time",
        type: "invalid_request_error", param: nil, code: "timeout")

    /// 504: the completion did not finish in time.
    static let completionTimeout = APIError(
        status: .gatewayTimeout, message: "The completion did not finish in time",
        type: "server_error", param: nil, code: "timeout")

    /// 404 for a path the server has no route for.
    static func noRoute(_ method: HTTPMethod, _ path: String) -> APIError {
        APIError(
            status: .notFound, message: "No route for \(method.rawValue) \(path)",
            type: "invalid_request_error", param: nil, code: "unknown_url")
    }

    /// 405 for a known path with another method.
    static func wrongMethod(_ method: HTTPMethod, _ path: String) -> APIError {
        APIError(
            status: .methodNotAllowed, message: "\(path) does not accept \(method.rawValue)",
            type: "invalid_request_error", param: nil, code: "method_not_allowed")
    }

    /// 500: the model failed (the message says how).
    static func failed(_ error: any Error) -> APIError {
        APIError(
            status: .internalServerError, message: "The completion failed: \(error)",
            type: "server_error", param: nil, code: nil)
    }

    /// The JSON body.
    var body: Data {
        let fields: [String: Any] = [
            "message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull(),
        ]
        let object: [String: Any] = ["error": fields]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            ?? Data()
    }
}
