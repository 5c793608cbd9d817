/// The bounds every request is held to, so that no client can make the server hold unbounded
/// memory, time or queue places (docs/SERVER.md "Limits").
public struct ServerLimits: Sendable {
    /// Largest request body; a larger one is refused with 413 before it is read.
    public var maxBodyBytes = 1 << 20
    /// Most prompt tokens a request may send (BOS included for the plain model).
    public var maxPromptTokens = 65_536
    /// Most tokens a request may ask for (`max_tokens`).
    public var maxCompletionTokens = 1024
    /// Completions running at once, each on its own copy of the model.
    public var workers = 1
    /// Completions waiting for a worker; one more is refused with 429.
    public var queueDepth = 8
    /// Connections open at once; one more gets 503 and is closed at once.
    public var maxConnections = 256
    /// Seconds a client has to send a whole request (and an idle keep-alive connection stays
    /// open): a slow or silent client cannot hold a connection forever.
    public var readTimeout = 10.0
    /// Seconds a completion may take from admission to its last byte; then it is cancelled
    /// and the connection closed.
    public var requestTimeout = 300.0

    /// The defaults above.
    public init() {}
}
