import Foundation
import HSAData

/// Fits a sample to a length in a tokenizer's tokens. The generators build contexts to an
/// exact byte length, which is the token count for the byte tokenizer; for a subword tokenizer
/// a sample is rebuilt at a rescaled byte length until its prompt fills the budget, as NVIDIA
/// RULER fits its haystack to a token budget.
struct TokenBudgetFitter {
    /// Rebuilds tried before settling for the largest sample that fits.
    static let maximumRounds = 8
    /// How far below its budget a fitted prompt may end: 1% of the budget.
    static let slack = 0.01

    /// The budget in tokens of `tokenizer`.
    let length: Int
    let tokenizer: any Tokenizer
    /// Tokens a sample takes besides its prompt (BOS and prompt text): what evaluation reserves
    /// for generation, or the answer and EOS a training sample holds.
    let reserved: (EvalSample) -> Int

    /// The largest sample `build(byteLength)` gives whose prompt plus ``reserved`` tokens is at
    /// most ``length``, within about 1% of it. The byte tokenizer gets `build(length)` as it is;
    /// for another tokenizer needle and distractor positions are left empty: the generators
    /// know byte offsets only. `task` names the task in errors.
    /// - Throws: what `build` throws, or ``EvalError/exceedsTokenBudget(task:length:tokens:)``
    ///   when even the shortest rebuild is longer than the budget.
    func fit(task: String, build: (_ byteLength: Int) throws -> EvalSample) throws -> EvalSample {
        guard !(tokenizer is ByteTokenizer) else { return try build(length) }
        // Byte lengths known to fit (lower) and known not to (upper); rebuilds stay between.
        var fitting = 0
        var tooLong = Int.max
        var best: (sample: EvalSample, tokens: Int)?
        var shortestTokens = Int.max
        var byteLength = length
        for _ in 0..<Self.maximumRounds {
            let candidate: EvalSample
            do {
                candidate = try build(byteLength)
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
            let budget = length - reserved(candidate)
            let tokens = candidate.prompt(tokenizer: tokenizer).count
            shortestTokens = min(shortestTokens, tokens)
            if tokens <= budget {
                fitting = byteLength
                if tokens > best?.tokens ?? 0 { best = (candidate, tokens) }
                if Double(budget - tokens) <= Double(budget) * Self.slack { break }
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
            throw EvalError.exceedsTokenBudget(task: task, length: length, tokens: shortestTokens)
        }
        fitted.needlePositions = []
        fitted.distractorPositions = []
        return fitted
    }
}
