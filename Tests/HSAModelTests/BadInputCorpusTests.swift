import Foundation
import HSACore
import HSAModel
import Testing

/// Generated bad `config.json` files (seeded, so every run tries the same cases): each must be
/// refused by `ModelConfig.decode` with a ``ConfigError`` naming the file and the field, never
/// a trap (docs/RELIABILITY.md, "The bad-input corpus").
@Suite struct BadInputCorpusTests {
    /// Integer fields and their allowed ranges (`ModelLimits`), for out-of-range values.
    static let ranges: [(String, ClosedRange<Int>)] = [
        ("vocab_size", 1...ModelLimits.vocabSize), ("d_model", 1...ModelLimits.width),
        ("head_dim", 1...ModelLimits.width), ("retrieval_dim", 1...ModelLimits.width),
        ("d_ff", 1...ModelLimits.feedForwardWidth), ("n_heads", 1...ModelLimits.heads),
        ("n_kv_heads", 1...ModelLimits.heads), ("n_lower_layers", 0...ModelLimits.layers),
        ("n_upper_layers", 0...ModelLimits.layers), ("encoder_layers", 0...ModelLimits.layers),
        ("window", 1...ModelLimits.length), ("max_train_len", 1...ModelLimits.length),
        ("chunk_size", 1...ModelLimits.length), ("top_k", 1...ModelLimits.topK),
    ]
    /// Fields that hold names (enums).
    static let nameFields = [
        "landmark", "chunk_kv", "fusion", "retrieval", "residual", "attention",
    ]
    /// Values of the wrong JSON type for an integer field.
    static var wrongTypes: [Any] { ["12", true, [1, 2], ["a": 1], 1.5, 1e30, -0.5] }

    /// One generated case: the mutated JSON and the word its error must contain.
    static func mutate(_ base: [String: Any], _ rng: inout SplitMix64) throws -> (Data, String) {
        var fields = base
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:  // An integer out of its range, just outside or far outside.
            let (field, range) = ranges.randomElement(using: &rng)!
            let below = range.lowerBound - Int.random(in: 1...1 << 40, using: &rng)
            let above = range.upperBound + Int.random(in: 1...1 << 40, using: &rng)
            let choices = [range.lowerBound - 1, range.upperBound + 1, below, above, Int.max]
            fields[field] = choices.randomElement(using: &rng)!
            return (try JSONSerialization.data(withJSONObject: fields), field)
        case 1:  // An integer field of the wrong type.
            let field = ranges.randomElement(using: &rng)!.0
            fields[field] = wrongTypes.randomElement(using: &rng)!
            return (try JSONSerialization.data(withJSONObject: fields), field)
        case 2:  // A name field with an unknown name or a number.
            let field = nameFields.randomElement(using: &rng)!
            fields[field] =
                Bool.random(using: &rng)
                ? "bogus\(Int.random(in: 0..<1000, using: &rng))" as Any : 3 as Any
            return (try JSONSerialization.data(withJSONObject: fields), field)
        case 3:  // An unknown field.
            let field = "unknown_\(Int.random(in: 0..<1_000_000, using: &rng))"
            fields[field] = Int.random(in: 0..<100, using: &rng)
            return (try JSONSerialization.data(withJSONObject: fields), field)
        default:  // Not JSON: the valid file cut short.
            let data = try JSONSerialization.data(withJSONObject: fields)
            return (data.prefix(Int.random(in: 0..<data.count - 1, using: &rng)), "not valid JSON")
        }
    }

    @Test func generatedBadConfigsAreRefusedNamingTheField() throws {
        let base = try #require(
            JSONSerialization.jsonObject(with: ModelConfig.tiny.encoded()) as? [String: Any])
        var rng = SplitMix64(seed: 20_261_206)
        for number in 0..<Self.caseCount {
            let (data, word) = try Self.mutate(base, &rng)
            let source = "corpus/config-\(number).json"
            do {
                _ = try ModelConfig.decode(data, source: source)
                Issue.record("case \(number) accepted: \(String(decoding: data, as: UTF8.self))")
            } catch let error as ConfigError {
                let message = error.description
                #expect(
                    message.contains(source) && message.contains(word),
                    "case \(number): \(message)")
            }
        }
    }

    /// Generated config cases (docs/RELIABILITY.md counts them).
    static let caseCount = 500
}
