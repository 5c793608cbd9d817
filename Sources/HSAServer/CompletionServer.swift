import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The OpenAI-compatible HTTP server of `hsa-serve` (docs/SERVER.md): one event loop for the
/// connections, a `GenerationPool` for the model.
public final class CompletionServer: Sendable {
    /// The port it listens on (the one picked when the configuration said 0).
    public let port: Int
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    let pool: GenerationPool
    private let gate: ConnectionGate

    private init(
        port: Int, channel: any Channel, group: MultiThreadedEventLoopGroup, pool: GenerationPool,
        gate: ConnectionGate
    ) {
        self.port = port
        self.channel = channel
        self.group = group
        self.pool = pool
        self.gate = gate
    }

    /// Connections open now (at most `ServerLimits.maxConnections`).
    public var openConnections: Int { gate.openConnections }

    /// Loads the workers' models and starts listening.
    /// - Throws: `ServerSetupError` (a model copy, the address).
    public static func start(_ configuration: ServerConfiguration, catalog: ModelCatalog)
        async throws -> CompletionServer
    {
        let pool = try GenerationPool(catalog: catalog, limits: configuration.limits)
        let context = ServerContext(
            catalog: catalog, pool: pool, limits: configuration.limits,
            apiKey: configuration.apiKey.map(APIKey.init),
            started: Int(Date().timeIntervalSince1970))
        let gate = ConnectionGate(limit: configuration.limits.maxConnections)
        // One loop: it only parses and writes; the model runs on the pool's threads.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard gate.admit(channel) else {
                        return try channel.pipeline.syncOperations.addHandler(
                            OverCapacityResponder())
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(server: context))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            try? await pool.shutdown()
            try? await group.shutdownGracefully()
            throw ServerSetupError(
                "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        return CompletionServer(
            port: channel.localAddress?.port ?? configuration.port, channel: channel,
            group: group, pool: pool, gate: gate)
    }

    /// Returns when the server stops listening.
    public func waitUntilClosed() async throws { try await channel.closeFuture.get() }

    /// Stops accepting connections (`waitUntilClosed` then returns); safe from any thread.
    public func stopListening() { channel.close(promise: nil) }

    /// Stops listening, lets running completions end, and closes every connection.
    public func shutdown() async throws {
        try? await channel.close()
        try await pool.shutdown()
        try await group.shutdownGracefully()
    }
}
