import Foundation
import HSAData

/// Samples whose length counts a model's own tokens. The generator builds contexts to an exact
/// byte length, which is the token count for the byte tokenizer; for a subword tokenizer a
/// sample is rebuilt at a rescaled byte length until its prompt fills the token budget, as
/// NVIDIA RULER fits its haystack to a token budget.
extension TaskGenerator {
    /// Rebuilds tried before settling for the largest sample that fits.
    static let maximumFittingRounds = 8
    /// How far below its budget a fitted prompt may end: 1% of the budget.
    static let fittingSlack = 0.01

    /// The sample `job` names, at most `job.length` tokens of `tokenizer` (the prompt with BOS
    /// plus the tokens to generate) and within about 1% of it. The byte tokenizer gets exactly
    /// ``sample(_:)``. For another tokenizer, needle and distractor positions are left empty:
    /// the generator knows byte offsets only, so no retrieval diagnostics are taken.
    /// - Throws: what ``sample(_:)`` throws, or ``EvalError/exceedsTokenBudget(task:length:tokens:)``
    ///   when even the shortest rebuild is longer than the budget.
    public func sample(_ job: EvalJob, tokenizer: any Tokenizer) throws -> EvalSample {
        guard !(tokenizer is ByteTokenizer) else { return try sample(job) }
        // Byte lengths known to fit (lower) and known not to (upper); rebuilds stay between.
        var fitting = 0
        var tooLong = Int.max
        var best: (sample: EvalSample, tokens: Int)?
        var shortestTokens = Int.max
        var byteLength = job.length
        for _ in 0..<Self.maximumFittingRounds {
            let candidate: EvalSample
            do {
                candidate = try sample(
                    job.task, length: job.length, byteLength: byteLength, index: job.index,
                    seed: job.seed, depth: job.depth)
            } catch EvalError.lengthTooShort(_, _, let minimum)
                where minimum > byteLength && minimum < tooLong
            {
                // Too few bytes for the template may still be few enough tokens: try the
                // shortest byte length the generator accepts.
                byteLength = minimum
                continue
            } catch EvalError.lengthTooShort where shortestTokens < Int.max {
                break  // Shrunk below the template: no shorter sample exists.
            }
            let budget = job.length - candidate.tokensToGenerate
            let tokens = candidate.prompt(tokenizer: tokenizer).count
            shortestTokens = min(shortestTokens, tokens)
            if tokens <= budget {
                fitting = byteLength
                if tokens > best?.tokens ?? 0 { best = (candidate, tokens) }
                if Double(budget - tokens) <= Double(budget) * Self.fittingSlack { break }
            } else {
                tooLong = byteLength
            }
            // Scale the prompt's bytes by budget / tokens; tokens per byte barely change.
            let promptBytes = byteLength - candidate.tokensToGenerate
            let scaled = Double(promptBytes) * Double(budget) / Double(max(tokens, 1))
            let next = Int(scaled.rounded(.down)) + candidate.tokensToGenerate
            byteLength = min(max(next, fitting + 1), tooLong - 1)
            guard byteLength > fitting, byteLength < tooLong else { break }
        }
        guard var fitted = best?.sample else {
            throw EvalError.exceedsTokenBudget(
                task: job.task.name, length: job.length, tokens: shortestTokens)
        }
        fitted.needlePositions = []
        fitted.distractorPositions = []
        return fitted
    }
}

extension EvalSample {
    /// The tokens the harness feeds the model: BOS, then the prompt text (input and answer
    /// prefix) in `tokenizer`'s tokens.
    public func prompt(tokenizer: any Tokenizer) -> [Int32] {
        [tokenizer.bos] + tokenizer.encode(promptText)
    }
}
