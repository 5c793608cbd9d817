import Foundation
import HSACore

/// Which half of every value vocabulary a generator draws from. Evaluation and training halves
/// are disjoint, so a model trained on `hsa data synth` output never saw an evaluation needle.
/// Numbers and UUIDs are split by a hash bit of the whole value, not by range, so both halves
/// have the same distribution at every character position: a byte-level model trained on one
/// half has seen every digit in every place (a range split gave training numbers a leading
/// 5-9 and evaluation numbers a leading 1-5).
public enum ValueSpace: String, Codable, Sendable, CaseIterable {
    /// Evaluation: numbers and UUIDs whose hash bit is 0, even-indexed words.
    case evaluation
    /// Training: numbers and UUIDs whose hash bit is 1, odd-indexed words, and seeds offset by
    /// ``trainingSeedOffset``.
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

    /// The space a value with these bits belongs to: one bit of a SplitMix64 mix, so the two
    /// halves interleave finely over every range.
    public static func of(bits: UInt64) -> ValueSpace {
        var mixer = SplitMix64(seed: bits)
        return mixer.next() & 1 == 0 ? .evaluation : .training
    }

    /// A uniform integer from this space's half of `range` (rejection sampling: two draws on
    /// average).
    public func integer(in range: ClosedRange<Int>, rng: inout SplitMix64) -> Int {
        while true {
            let value = Int.random(in: range, using: &rng)
            if Self.of(bits: UInt64(bitPattern: Int64(value))) == self { return value }
        }
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

    /// A version-4 UUID of this space (rejection sampling on a hash bit of all 128 bits).
    public func uuid(rng: inout SplitMix64) -> String {
        var high: UInt64
        var low: UInt64
        repeat {
            high = (rng.next() & ~0xF000) | 0x4000  // version 4
            low = (rng.next() & ~(0xC << 60)) | (0x8 << 60)  // RFC 4122 variant
        } while ValueSpace.of(bits: high ^ (low &* 0x9E37_79B9_7F4A_7C15)) != space
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
