import Foundation
import HSAData

/// Evaluation samples whose length counts a model's own tokens (``TokenBudgetFitter``).
extension TaskGenerator {
    /// The sample `job` names, at most `job.length` tokens of `tokenizer` (the prompt with BOS
    /// plus the tokens to generate) and within about 1% of it. The byte tokenizer gets exactly
    /// ``sample(_:)``. For another tokenizer, needle and distractor positions are left empty:
    /// the generator knows byte offsets only, so no retrieval diagnostics are taken.
    /// - Throws: what ``sample(_:)`` throws, or ``EvalError/exceedsTokenBudget(task:length:tokens:)``
    ///   when even the shortest rebuild is longer than the budget.
    public func sample(_ job: EvalJob, tokenizer: any Tokenizer) throws -> EvalSample {
        let fitter = TokenBudgetFitter(length: job.length, tokenizer: tokenizer) {
            $0.tokensToGenerate
        }
        return try fitter.fit(task: job.task.name) { byteLength in
            try sample(
                job.task, length: job.length, byteLength: byteLength, index: job.index,
                seed: job.seed, depth: job.depth)
        }
    }
}

extension EvalSample {
    /// The tokens the harness feeds the model: BOS, then the prompt text (input and answer
    /// prefix) in `tokenizer`'s tokens.
    public func prompt(tokenizer: any Tokenizer) -> [Int32] {
        [tokenizer.bos] + tokenizer.encode(promptText)
    }
}
