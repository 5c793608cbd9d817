import Foundation

/// The completion a connection is answering: what its response needs, and how far it got.
struct ResponseState {
    let id = CompletionResponse.newID()
    let created = Int(Date().timeIntervalSince1970)
    let model: String
    let stream: Bool
    let keepAlive: Bool
    let cancel: CancelFlag
    /// Whether the head of the streamed response went out (a failure can then only end it).
    var headSent = false
    /// The text so far (non-streamed responses send it at the end).
    var text = ""

    /// A response (or streamed chunk) carrying `text`.
    func body(text: String, finishReason: String?, usage: CompletionResponse.Usage?) -> Data {
        CompletionResponse(
            id: id, created: created, model: model,
            choices: [.init(text: text, finishReason: finishReason)], usage: usage
        ).json
    }
}
