import NIOConcurrencyHelpers

/// What every connection of one server shares: the models, the workers, the limits and key.
struct ServerContext: Sendable {
    let catalog: ModelCatalog
    let pool: GenerationPool
    let limits: ServerLimits
    let apiKey: APIKey?
    /// When the server started (Unix seconds): the `created` of every listed model.
    let started: Int
}

/// Set once by the connection (client gone, time up), read by the worker between tokens.
final class CancelFlag: Sendable {
    private let box = NIOLockedValueBox(false)

    var isSet: Bool { box.withLockedValue { $0 } }

    func set() { box.withLockedValue { $0 = true } }
}
