/// Where a `CompletionServer` listens, its optional API key and its limits.
public struct ServerConfiguration: Sendable {
    /// The address to bind: loopback unless the operator says otherwise.
    public var host = "127.0.0.1"
    /// The TCP port; 0 picks a free one (`CompletionServer.port` tells which).
    public var port = 8080
    /// When set, every route but /health needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// The per-request and queue bounds.
    public var limits = ServerLimits()

    /// A configuration with the defaults above.
    public init() {}
}
