import HSAData
import HSAModel

/// Why a continuation stopped.
public enum ContinuationEnd: String, Sendable {
    /// The model chose the tokenizer's EOS.
    case endOfSequence
    /// It reached the token budget.
    case length
    /// The caller's `onText` asked to stop.
    case stopped
}

extension StreamingSession {
    /// Samples up to `maxTokens` tokens after what the session has read and hands their text to
    /// `onText` as it comes, whole UTF-8 characters at a time (a character split over tokens
    /// waits for its last byte). Stops at the tokenizer's EOS (never handed over), after
    /// `maxTokens` tokens, or when `onText` returns false. What `hsa generate`, `hsa ask` and
    /// `hsa-serve` share.
    /// - Returns: the number of tokens sampled (EOS included) and why it stopped.
    @discardableResult
    public func continueText(
        maxTokens: Int, sampler: inout Sampler, tokenizer: any Tokenizer,
        onText: (String) throws -> Bool
    ) throws -> (tokens: Int, end: ContinuationEnd) {
        var decoder = StreamingTextDecoder(tokenizer: tokenizer)
        guard maxTokens > 0 else { return (0, .length) }
        var logits = try logits()
        for count in 1...maxTokens {
            let next = logits.withUnsafeBufferPointer { sampler.sample($0) }
            if next == tokenizer.eos {
                if let rest = decoder.finish(), !(try onText(rest)) { return (count, .stopped) }
                return (count, .endOfSequence)
            }
            if let text = decoder.decode(next), !(try onText(text)) { return (count, .stopped) }
            // The last token's logits are never needed: no decode step after it.
            if count < maxTokens { logits = try decodeNext(token: next) }
        }
        if let rest = decoder.finish(), !(try onText(rest)) { return (maxTokens, .stopped) }
        return (maxTokens, .length)
    }
}
