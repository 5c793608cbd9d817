import Foundation
import HSAInference

/// Does the model copy from far back? A passage of a document is read once, then `distance`
/// tokens of the document's later text, then the same passage again. A model that retrieves
/// across `distance` tokens predicts the repeat far better than the first reading; one that
/// does not (a sliding window shorter than the distance, a retrieval path that is switched
/// off) scores both readings alike. Unlike a needle task this needs no prompt wording, so it
/// measures the mechanism itself, on the model's own kind of text.
public enum RepeatProbe {
    /// One distance's result for one document.
    public struct Reading: Codable, Sendable, Equatable {
        /// Tokens between the end of the first reading and the start of the repeat.
        public var distance: Int
        /// Tokens in the passage.
        public var tokens: Int
        /// Bits per byte of the first reading.
        public var firstBitsPerByte: Double
        /// Bits per byte of the repeat.
        public var repeatBitsPerByte: Double

        /// Creates a reading.
        public init(distance: Int, tokens: Int, firstBitsPerByte: Double, repeatBitsPerByte: Double)
        {
            self.distance = distance
            self.tokens = tokens
            self.firstBitsPerByte = firstBitsPerByte
            self.repeatBitsPerByte = repeatBitsPerByte
        }
    }

    /// The probe sequence: BOS, `passage` tokens from the start of `text`, the next `distance`
    /// tokens of `text`, the passage again. Nil when `text` is shorter than passage + distance.
    public static func sequence(text: [Int32], bos: Int32, passage: Int, distance: Int) -> [Int32]?
    {
        guard passage > 0, distance >= 0, text.count >= passage + distance else { return nil }
        let first = text[0..<passage]
        return [bos] + first + text[passage..<(passage + distance)] + first
    }

    /// Reads `text` (tokens, no BOS) at each distance with a fresh session from `makeSession`;
    /// distances the text is too short for are skipped. The first reading is the same at
    /// every distance (the model is causal), so it is scored once and each distance only
    /// prefills up to its repeat.
    public static func measure(
        text: [Int32], bos: Int32, passage: Int, distances: [Int],
        makeSession: () throws -> StreamingSession
    ) throws -> [Reading] {
        let usable = distances.sorted().filter {
            passage > 0 && $0 >= 0 && text.count >= passage + $0
        }
        guard !usable.isEmpty,
            let first = try PositionLoss.measure(
                session: makeSession(), tokens: [bos] + text[0..<passage], positions: [1],
                window: passage
            ).first
        else { return [] }
        return try usable.compactMap { distance in
            guard let tokens = sequence(text: text, bos: bos, passage: passage, distance: distance),
                let repeated = try PositionLoss.measure(
                    session: makeSession(), tokens: tokens, positions: [1 + passage + distance],
                    window: passage
                ).first
            else { return nil }
            return Reading(
                distance: distance, tokens: passage, firstBitsPerByte: first.bitsPerByte,
                repeatBitsPerByte: repeated.bitsPerByte)
        }
    }
}
