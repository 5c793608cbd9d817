import Foundation
import HSAData

/// Varied training samples whose length counts a tokenizer's tokens
/// (``TokenBudgetFitter/training(length:tokenizer:)``).
extension VariedTaskGenerator {
    /// Sample `index` of `kind` as `hsa data tasks` writes it: at most `length` tokens of
    /// `tokenizer` (BOS, prompt, answer, EOS) and within about 1% of it; exactly `length` for
    /// the byte tokenizer (``sample(_:length:index:seed:)``).
    /// - Throws: ``EvalError/lengthTooShort(task:length:minimum:)`` or
    ///   ``EvalError/exceedsTokenBudget(task:length:tokens:)``.
    public func sample(
        _ kind: VariedTaskKind, length: Int, index: Int, seed: UInt64, tokenizer: any Tokenizer
    ) throws -> EvalSample {
        try TokenBudgetFitter.training(length: length, tokenizer: tokenizer).fit(
            task: "varied_" + kind.rawValue
        ) { byteLength in
            try sample(kind, length: length, byteLength: byteLength, index: index, seed: seed)
        }
    }
}
