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
    static func sequence(text: [Int32], bos: Int32, passage: Int, distance: Int) -> [Int32]? {
        guard passage > 0, distance >= 0, text.count >= passage + distance else { return nil }
        let first = text[0..<passage]
        return [bos] + first + text[passage..<(passage + distance)] + first
    }

    /// Reads `text` (tokens, no BOS) at each distance with a fresh session from `makeSession`;
    /// distances the text is too short for are skipped.
    public static func measure(
        text: [Int32], bos: Int32, passage: Int, distances: [Int],
        makeSession: () throws -> StreamingSession
    ) throws -> [Reading] {
        try distances.sorted().compactMap { distance in
            guard let tokens = sequence(text: text, bos: bos, passage: passage, distance: distance)
            else { return nil }
            let windows = try PositionLoss.measure(
                session: makeSession(), tokens: tokens,
                positions: [1, 1 + passage + distance], window: passage)
            guard windows.count == 2 else { return nil }
            return Reading(
                distance: distance, tokens: passage,
                firstBitsPerByte: windows[0].bitsPerByte,
                repeatBitsPerByte: windows[1].bitsPerByte)
        }
    }
}
