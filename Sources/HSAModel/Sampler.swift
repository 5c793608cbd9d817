import Foundation
import HSACore

/// Picks the next token from a row of logits: greedy, or temperature sampling restricted to the
/// top-k tokens and/or the top-p probability mass.
public struct Sampler: Sendable {
    /// 0 means greedy (argmax).
    public var temperature: Double
    /// Keep only the k most likely tokens (0: no limit).
    public var topK: Int
    /// Keep the smallest set of tokens whose probability reaches p (1: no limit).
    public var topP: Double
    var rng: SplitMix64

    public init(temperature: Double = 0, topK: Int = 0, topP: Double = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.rng = SplitMix64(seed: seed)
    }

    /// The chosen token id for `logits` (V).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        precondition(!logits.isEmpty, "no logits to sample from")
        if temperature <= 0 {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        var order = Array(0..<logits.count)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if topK > 0 { order = Array(order.prefix(topK)) }
        let maximum = Double(logits[order[0]])
        var probabilities = order.map { exp((Double(logits[$0]) - maximum) / temperature) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        if topP < 1 {
            var mass = 0.0
            var keep = 0
            while keep < probabilities.count && mass < topP {
                mass += probabilities[keep]
                keep += 1
            }
            order = Array(order.prefix(keep))
            probabilities = Array(probabilities.prefix(keep)).map { $0 / mass }
        }
        var draw = rng.nextUniform()
        for (i, p) in probabilities.enumerated() {
            draw -= p
            if draw < 0 { return Int32(order[i]) }
        }
        return Int32(order[order.count - 1])
    }
}

extension LanguageModel {
    /// Generates up to `maxTokens` tokens after `prompt`, calling `onToken` with each as it is
    /// chosen (return false to stop). Recomputes the forward pass over the last
    /// `contextLimit` tokens per new token; the streaming engine replaces this for long inputs.
    public func generate(
        prompt: [Int32], maxTokens: Int, sampler: inout Sampler, contextLimit: Int,
        stopToken: Int32? = nil, onToken: (Int32) -> Bool
    ) {
        var tokens = prompt
        for _ in 0..<maxTokens {
            let context = Array(tokens.suffix(contextLimit))
            let pass = forward(tokens: context, batch: 1, sequenceLength: context.count)
            let v = config.vocabSize
            pass.logits.synchronize()  // the host samples from device-written logits
            let next = sampler.sample(
                UnsafeBufferPointer(start: pass.logits.data + (context.count - 1) * v, count: v))
            if next == stopToken { return }
            tokens.append(next)
            if !onToken(next) { return }
        }
    }
}
