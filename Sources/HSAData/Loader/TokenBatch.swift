import Foundation

/// One training batch of B windows of T tokens.
public struct TokenBatch: Equatable, Sendable {
    /// B.
    public var batchSize: Int
    /// T.
    public var sequenceLength: Int
    /// Input tokens, row-major `(B, T)`: window b is `inputs[b*T ..< (b+1)*T]`.
    public var inputs: [Int32]
    /// Next-token targets `(B, T)`: `targets[b*T + t]` follows `inputs[b*T + t]`.
    public var targets: [Int32]
    /// Loss weights `(B, T)`: 0 where the target's loss-mask byte is 0, else 1.
    public var mask: [Float]
}

/// The resumable position of a ``TokenDataLoader``: with the same shards, batch size and
/// sequence length, restoring it reproduces exactly the batches that followed it.
public struct LoaderState: Codable, Equatable, Sendable {
    /// Seed of the window order.
    public var seed: UInt64
    /// Completed passes over the windows.
    public var epoch: Int
    /// Position of the next window in this epoch's order.
    public var cursor: Int

    /// Creates a state.
    public init(seed: UInt64, epoch: Int = 0, cursor: Int = 0) {
        self.seed = seed
        self.epoch = epoch
        self.cursor = cursor
    }
}
