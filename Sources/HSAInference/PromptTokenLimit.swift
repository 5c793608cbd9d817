import HSACPU
import HSAModel

/// The most prompt tokens (BOS included) a streamed prompt may have: a limit given by the user,
/// or what the free RAM and disk hold now, so an endless stream stops with an error before its
/// key/value memory outgrows the machine.
public struct PromptTokenLimit: Sendable, Equatable {
    /// The limit in tokens, BOS included.
    public let tokens: Int
    /// Whether `tokens` was derived from the free space (no limit given).
    public let derived: Bool

    /// `given` tokens, or, when nil, the longest prompt whose chunk memory fits `storage` with
    /// the RAM and disk free now (`MemoryPlan.largestPrompt`).
    public init(given: Int?, config: ModelConfig, precision: KVPrecision, storage: KVStorage) {
        tokens =
            given
            ?? MemoryPlan.largestPrompt(config: config, precision: precision, storage: storage)
        derived = given == nil
    }

    /// The error for `prompt` once it is known to be longer than the limit.
    func exceeded(by prompt: PromptFile) -> InferenceError {
        .promptTooLong(prompt: prompt.name, limit: tokens, derived: derived)
    }
}
