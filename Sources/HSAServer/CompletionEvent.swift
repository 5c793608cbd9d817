/// What a worker tells the connection while a completion runs, in order: text pieces, then
/// exactly one `finished` or `failed`.
enum CompletionEvent: Sendable {
    /// Text to send (streamed at once, or collected for the single response).
    case text(String)
    /// The end: OpenAI's `finish_reason` ("stop" or "length") and the token counts.
    case finished(reason: String, promptTokens: Int, completionTokens: Int)
    /// The model failed before the end.
    case failed(APIError)

    /// True for the last event of a completion (`finished` or `failed`).
    var isFinal: Bool {
        if case .text = self { return false }
        return true
    }
}
