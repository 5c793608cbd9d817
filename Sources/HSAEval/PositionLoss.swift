import Foundation
import HSAInference

/// Bits per byte of a model at chosen positions of a long document: does the model use
/// distant context? One streaming pass reads the document once: it prefills up to each
/// position, then scores the next `window` tokens one at a time (each is predicted from
/// everything before it, then consumed), and prefills on to the next position. Memory stays
/// bounded at any document length, as in `hsa complete`.
public enum PositionLoss {
    /// The mean loss of the `tokens` tokens from `position` on.
    public struct Window: Codable, Sendable, Equatable {
        /// The first scored token's position (BOS = position 0).
        public var position: Int
        /// Tokens scored.
        public var tokens: Int
        /// Mean next-token loss in bits (one byte per token: bits per byte).
        public var bitsPerByte: Double

        /// Creates a window's result.
        public init(position: Int, tokens: Int, bitsPerByte: Double) {
            self.position = position
            self.tokens = tokens
            self.bitsPerByte = bitsPerByte
        }
    }

    /// Scores `window` tokens from each of `positions` (ascending, each at least 1) in `tokens`
    /// (BOS first). Positions whose window does not fit in the document are skipped.
    public static func measure(
        session: StreamingSession, tokens: [Int32], positions: [Int], window: Int
    ) throws -> [Window] {
        precondition(session.position == 0, "measure needs a fresh session")
        var results: [Window] = []
        var consumed = 0
        for position in positions.sorted() where position >= max(consumed, 1) {
            guard position + window <= tokens.count else { break }
            try session.prefill(tokens: Array(tokens[consumed..<position]))
            var logits = try session.logits()
            var nats = 0.0
            for offset in 0..<window {
                let target = tokens[position + offset]
                nats += negativeLogLikelihood(logits, target: Int(target))
                logits = try session.decodeNext(token: target)
            }
            consumed = position + window
            results.append(
                Window(
                    position: position, tokens: window,
                    bitsPerByte: nats / Double(window) / log(2)))
        }
        return results
    }

    /// -log softmax(logits)[target], computed stably in Double.
    static func negativeLogLikelihood(_ logits: [Float], target: Int) -> Double {
        let peak = Double(logits.max() ?? 0)
        let sum = logits.reduce(0.0) { $0 + exp(Double($1) - peak) }
        return log(sum) + peak - Double(logits[target])
    }
}
