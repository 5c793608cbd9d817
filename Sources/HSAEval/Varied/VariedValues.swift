import HSACore

/// The kinds of values a varied task hides: numbers of several lengths, word pairs, UUIDs and
/// letter-digit codes, so the model learns to copy whatever stands in the fact rather than one
/// format.
public enum VariedValueKind: String, CaseIterable, Sendable {
    case number, word, uuid, code
}

/// The kinds of keys a fact belongs to: word pairs ("fancy-otter"), person names
/// ("Mira Calloway"), numbered objects ("locker 318") and UUIDs.
public enum VariedKeyKind: String, CaseIterable, Sendable {
    case word, name, object, uuid
}

/// Draws varied keys and values from one ``ValueSpace`` (training and evaluation halves are
/// disjoint, as for RULER's needles).
public struct VariedValues: Sendable {
    let needles: NeedleValueSampler
    /// The value half every draw comes from.
    var space: ValueSpace { needles.space }

    /// Creates a sampler over `sources`' word lists.
    public init(sources: EvalTextSources, space: ValueSpace) {
        needles = NeedleValueSampler(sources: sources, space: space)
    }

    /// A value of `kind`; numbers have 4-9 digits.
    public func value(_ kind: VariedValueKind, rng: inout SplitMix64) -> String {
        switch kind {
        case .number:
            let digits = Int.random(in: 4...9, using: &rng)
            let low = (1..<digits).reduce(1) { power, _ in power * 10 }
            return String(space.integer(in: low...(low * 10 - 1), rng: &rng))
        case .word: return needles.word(rng: &rng)
        case .uuid: return needles.uuid(rng: &rng)
        case .code:
            let letters = (0..<Int.random(in: 2...3, using: &rng)).map { _ in
                Character(Unicode.Scalar(UInt8(ascii: "A") + UInt8.random(in: 0..<26, using: &rng)))
            }
            return String(letters) + "-" + String(space.integer(in: 100...9999, rng: &rng))
        }
    }

    /// A key of `kind`.
    public func key(_ kind: VariedKeyKind, rng: inout SplitMix64) -> String {
        switch kind {
        case .word: return needles.word(rng: &rng)
        case .uuid: return needles.uuid(rng: &rng)
        case .name: return Self.name(rng: &rng) + " " + Self.name(rng: &rng)
        case .object:
            return pick(Self.objects, &rng) + " " + String(Int.random(in: 1...999, using: &rng))
        }
    }

    /// Distinct keys of one kind.
    public func keys(_ kind: VariedKeyKind, count: Int, rng: inout SplitMix64) -> [String] {
        var keys: [String] = []
        while keys.count < count {
            let key = key(kind, rng: &rng)
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    static let objects = [
        "locker", "room", "cabinet", "drawer", "box", "folder", "container", "bay", "desk",
        "case", "crate", "unit",
    ]
    private static let onsets = [
        "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s",
        "t", "v", "w", "br", "cl", "dr", "gr", "st", "th",
    ]
    private static let vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]

    /// A pronounceable capitalised name of two or three syllables.
    static func name(rng: inout SplitMix64) -> String {
        let syllables = Int.random(in: 2...3, using: &rng)
        let text = (0..<syllables).map { _ in pick(onsets, &rng) + pick(vowels, &rng) }.joined()
        return text.prefix(1).uppercased() + text.dropFirst()
    }
}
