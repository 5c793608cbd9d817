import Foundation
import HSACore

/// Which half of every value vocabulary a generator draws from. Evaluation and training halves
/// are disjoint, so a model trained on `hsa data synth` output never saw an evaluation needle.
public enum ValueSpace: String, Codable, Sendable, CaseIterable {
    /// Evaluation: lower half of number ranges, even-indexed words, UUIDs with random bit 0.
    case evaluation
    /// Training: upper half of number ranges, odd-indexed words, UUIDs with random bit 1, and
    /// seeds offset by ``trainingSeedOffset``.
    case training

    /// Added to the user's seed for training data so no training sample reuses an evaluation
    /// sample's random stream.
    public static let trainingSeedOffset: UInt64 = 1 << 40

    /// The seed actually used for a base seed in this space.
    public func effectiveSeed(_ seed: UInt64) -> UInt64 {
        self == .training ? seed &+ Self.trainingSeedOffset : seed
    }

    /// Elements of `words` in this space: even indices for evaluation, odd for training.
    public func half<T>(of words: [T]) -> [T] {
        let offset = self == .evaluation ? 0 : 1
        return stride(from: offset, to: words.count, by: 2).map { words[$0] }
    }

    /// A uniform integer from this space's half of `range` (lower half: evaluation).
    public func integer(in range: ClosedRange<Int>, rng: inout SplitMix64) -> Int {
        let middle = range.lowerBound + (range.upperBound - range.lowerBound) / 2
        let half = self == .evaluation ? range.lowerBound...middle : (middle + 1)...range.upperBound
        return Int.random(in: half, using: &rng)
    }
}

/// RULER's needle key/value kinds.
public enum NeedleValueKind: String, Codable, Sendable {
    /// 7-digit numbers.
    case numbers
    /// Adjective-noun pairs ("fancy-otter").
    case words
    /// Version-4 UUIDs.
    case uuids

    /// The singular noun ("number", "word", "uuid").
    public var singular: String { String(rawValue.dropLast()) }
}

/// Draws RULER needle keys and values from one ``ValueSpace``.
public struct NeedleValueSampler: Sendable {
    /// The space values come from.
    public let space: ValueSpace
    private let adjectives: [String]
    private let nouns: [String]

    /// Creates a sampler over `sources`' words; nouns are split between the spaces.
    public init(sources: EvalTextSources, space: ValueSpace) {
        self.space = space
        adjectives = sources.adjectives.isEmpty ? ["plain"] : sources.adjectives
        let half = space.half(of: sources.nouns)
        nouns = half.isEmpty ? ["thing"] : half
    }

    /// One value of `kind`.
    public func value(_ kind: NeedleValueKind, rng: inout SplitMix64) -> String {
        switch kind {
        case .numbers:
            return String(space.integer(in: 1_000_000...9_999_999, rng: &rng))
        case .words:
            return word(rng: &rng)
        case .uuids:
            return uuid(rng: &rng)
        }
    }

    /// An adjective-noun word ("fancy-otter").
    public func word(rng: inout SplitMix64) -> String {
        let adjective = adjectives[Int.random(in: 0..<adjectives.count, using: &rng)]
        let noun = nouns[Int.random(in: 0..<nouns.count, using: &rng)]
        return "\(adjective)-\(noun)"
    }

    /// A version-4 UUID whose first random bit marks the space.
    public func uuid(rng: inout SplitMix64) -> String {
        var high = rng.next()
        var low = rng.next()
        // Bit 63 of the high word is the first hex digit's top bit: 0 evaluation, 1 training.
        high = space == .evaluation ? high & ~(1 << 63) : high | (1 << 63)
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & ~(0xC << 60)) | (0x8 << 60)  // RFC 4122 variant
        let hex = String(format: "%016llx%016llx", high, low)
        let characters = Array(hex)
        func part(_ range: Range<Int>) -> String { String(characters[range]) }
        return [part(0..<8), part(8..<12), part(12..<16), part(16..<20), part(20..<32)]
            .joined(separator: "-")
    }
}

// MARK: - Seeds

/// Deterministic per-sample seeds.
public enum SampleSeed {
    /// The seed of sample `index` of `task` at `length` for base seed `seed`: a SplitMix64 mix
    /// of all four, so changing any one gives an unrelated stream.
    public static func derive(seed: UInt64, task: String, length: Int, index: Int) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a over the task name
        for byte in task.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        var rng = SplitMix64(seed: seed ^ hash)
        rng.state ^= UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15
        _ = rng.next()
        rng.state ^= UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
        return rng.next()
    }
}
