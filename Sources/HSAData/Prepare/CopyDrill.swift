import HSACore

/// Turns a plain-text segment into a long-range copy exercise: passages from its first part
/// are repeated at its end, so the repeated tokens are predictable only by looking back
/// further than a sliding window reaches. Every repeated token carries loss, which gives
/// retrieval layers a dense training signal (one per token, not one per task answer).
///
/// The segment keeps its length: its text is shortened by what the repeats add. Passages come
/// from the first `sourceFraction` of the text, so they sit at least
/// `(1 - sourceFraction) · length` tokens before their repeat.
///
/// Near repeats are the first step of the same skill: at `nearPassages` random points inside
/// the text, a passage of `nearPassageLength` tokens that ended at most that many tokens
/// earlier is repeated, close enough for a sliding window to copy it. The random gap keeps
/// the copy distance from being a constant, which a model could learn as a fixed offset
/// instead of finding the passage by its content. A model learns to copy nearby (induction)
/// before it learns to copy from far back, and a language model trained on prose alone may
/// not learn it at all within a short budget.
public struct CopyDrill: Codable, Sendable, Equatable {
    /// Fraction of text segments that become drills, in [0, 1].
    public var fraction: Double
    /// Passages repeated per drill.
    public var passages: Int
    /// Tokens per passage.
    public var passageLength: Int
    /// Passages are taken from this leading fraction of the text.
    public var sourceFraction: Double
    /// Repeats of the text just read, inserted inside the text.
    public var nearPassages: Int
    /// Tokens per near repeat.
    public var nearPassageLength: Int

    public init(
        fraction: Double, passages: Int = 2, passageLength: Int = 128,
        sourceFraction: Double = 0.6, nearPassages: Int = 0, nearPassageLength: Int = 32
    ) {
        self.fraction = fraction
        self.passages = passages
        self.passageLength = passageLength
        self.sourceFraction = sourceFraction
        self.nearPassages = nearPassages
        self.nearPassageLength = nearPassageLength
    }

    /// Whether every value is in its range: `fraction` in [0, 1], `sourceFraction` in
    /// [0.1, 1], passage counts and lengths positive (near passages may be none).
    public var isValid: Bool {
        (0...1).contains(fraction) && passages > 0 && passageLength > 0
            && (0.1...1).contains(sourceFraction) && nearPassages >= 0 && nearPassageLength > 0
    }

    /// The drill version of `tokens` (BOS first), or nil when the segment is too short for
    /// the passages. The result has the same length; mask 1 after the BOS.
    /// - Parameters:
    ///   - tokens: (L) a text segment starting with BOS.
    ///   - separator: the token between the text and each repeat (a newline).
    ///   - generator: picks the passages.
    func apply(
        to tokens: [Int32], separator: Int32, generator: inout SplitMix64
    ) -> (tokens: [Int32], mask: [UInt8])? {
        let nearAdded = nearPassages * (nearPassageLength + 1)
        let textLength = tokens.count - passages * (passageLength + 1) - nearAdded
        let sourceEnd = Int(Double(textLength) * sourceFraction)
        guard passages > 0, passageLength > 0, sourceEnd > passageLength + 1 else { return nil }
        guard nearPassages == 0 || (nearPassageLength > 0 && textLength > nearPassageLength + 1)
        else { return nil }
        // Near repeats follow the text read so far at sorted cut points; each copies the
        // passage that ends `gap` tokens before its cut (gap < nearPassageLength).
        let cuts = (0..<nearPassages).map { _ in
            nearPassageLength + 1 + generator.nextIndex(below: textLength - nearPassageLength)
        }.sorted()
        var result: [Int32] = []
        result.reserveCapacity(tokens.count)
        var copied = 0
        for cut in cuts {
            let end =
                cut
                - min(generator.nextIndex(below: nearPassageLength), cut - 1 - nearPassageLength)
            result += tokens[copied..<cut]
            result.append(separator)
            result += tokens[(end - nearPassageLength)..<end]
            copied = cut
        }
        result += tokens[copied..<textLength]
        for _ in 0..<passages {
            // Passages start after the BOS and end inside the source part.
            let start = 1 + generator.nextIndex(below: sourceEnd - passageLength - 1)
            result.append(separator)
            result += tokens[start..<(start + passageLength)]
        }
        return (result, [0] + [UInt8](repeating: 1, count: result.count - 1))
    }
}
