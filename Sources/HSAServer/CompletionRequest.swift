import Foundation

/// The body of `POST /v1/completions` as OpenAI defines it, decoded but not yet checked
/// against the server (`CompletionJob` does that). Fields OpenAI has and this server cannot
/// honour are decoded so that a request using them is refused rather than silently answered
/// differently.
struct CompletionRequest: Decodable {
    var model: String
    var prompt: String
    var maxTokens: Int?
    var temperature: Double?
    var topP: Double?
    var stop: [String]?
    var stream: Bool?
    var seed: Int?
    var n: Int?
    var bestOf: Int?
    var echo: Bool?
    var logprobs: Int?
    var suffix: String?
    var presencePenalty: Double?
    var frequencyPenalty: Double?

    enum CodingKeys: String, CodingKey {
        case model, prompt, temperature, stop, stream, seed, n, echo, logprobs, suffix
        case maxTokens = "max_tokens"
        case topP = "top_p"
        case bestOf = "best_of"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        prompt = try Self.oneOrList(container, .prompt, limit: 1) ?? ""
        stop = try Self.stopStrings(container)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        seed = try container.decodeIfPresent(Int.self, forKey: .seed)
        n = try container.decodeIfPresent(Int.self, forKey: .n)
        bestOf = try container.decodeIfPresent(Int.self, forKey: .bestOf)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo)
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        suffix = try container.decodeIfPresent(String.self, forKey: .suffix)
        presencePenalty = try container.decodeIfPresent(Double.self, forKey: .presencePenalty)
        frequencyPenalty = try container.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
    }

    /// `prompt` may be a string or a list of strings (OpenAI's batch form); one prompt per
    /// request here.
    private static func oneOrList(
        _ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, limit: Int
    ) throws -> String? {
        if let text = try? container.decodeIfPresent(String.self, forKey: key) { return text }
        let list = try container.decode([String].self, forKey: key)
        guard list.count == 1 else {
            throw APIError.invalid(
                "'\(key.rawValue)' must be a string or a list of exactly one string",
                param: key.rawValue)
        }
        return list[0]
    }

    /// `stop`: null, a string, or a list of up to 4 non-empty strings.
    private static func stopStrings(_ container: KeyedDecodingContainer<CodingKeys>) throws
        -> [String]?
    {
        if try !container.contains(.stop) || container.decodeNil(forKey: .stop) { return nil }
        let list: [String]
        if let one = try? container.decode(String.self, forKey: .stop) {
            list = [one]
        } else {
            list = try container.decode([String].self, forKey: .stop)
        }
        guard list.count <= 4, list.allSatisfy({ !$0.isEmpty }) else {
            throw APIError.invalid("'stop' takes up to 4 non-empty strings", param: "stop")
        }
        return list
    }

    /// The request in `body`, or the 400 that explains what is wrong with it.
    static func decode(_ body: Data) throws(APIError) -> CompletionRequest {
        do {
            return try JSONDecoder().decode(CompletionRequest.self, from: body)
        } catch let error as APIError {
            throw error
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalid("'\(key.stringValue)' is required", param: key.stringValue)
        } catch let DecodingError.typeMismatch(type, context) {
            throw mismatch(context, expected: "\(type)")
        } catch let DecodingError.valueNotFound(type, context) {
            throw mismatch(context, expected: "\(type)")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw mismatch(context, expected: "a valid value")
        } catch {
            throw .invalid(
                "The body is not a JSON object: we could not parse it", code: "invalid_json")
        }
    }

    private static func mismatch(_ context: DecodingError.Context, expected: String) -> APIError {
        let param = context.codingPath.map(\.stringValue).joined(separator: ".")
        if param.isEmpty {
            return .invalid("The body must be a JSON object", code: "invalid_json")
        }
        return .invalid("'\(param)' has the wrong type: expected \(expected)", param: param)
    }
}
