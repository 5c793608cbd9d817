import Foundation
import HSA
import HSATestSupport
import Testing

/// Generated malformed task-file lines (seeded, so every run tries the same cases): each file
/// must be refused by `EvalTaskFile.read` with ``EvalError/invalidTaskFile(path:line:reason:)``
/// naming the file, the line and the field (docs/RELIABILITY.md, "The bad-input corpus").
@Suite struct BadInputCorpusTests {
    /// Generated task-line cases (docs/RELIABILITY.md counts them).
    static let caseCount = 300

    static let validLine = #"{"input": "Q?", "outputs": ["42"], "length": 300}"#

    /// One bad line and the field (or phrase) its error must name.
    static func badLine(_ rng: inout SplitMix64) -> (String, String) {
        let huge = Int.random(in: (1 << 30) + 1...Int.max, using: &rng)
        let negative = -Int.random(in: 1...Int.max, using: &rng)
        let wrongTypes = [#""7""#, "true", "[1]", #"{"a": 1}"#, "null", "2.5"]
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:  // A required field missing.
            let field = ["input", "outputs", "length"].randomElement(using: &rng)!
            let parts = [
                #""input": "Q?""#, #""outputs": ["42"]"#, #""length": 300"#,
            ].filter { !$0.hasPrefix("\"\(field)\"") }
            return ("{" + parts.joined(separator: ", ") + "}", "missing field '\(field)'")
        case 1:  // A field of the wrong type.
            let field = ["input", "outputs", "length", "index", "tokens_to_generate"]
                .randomElement(using: &rng)!
            var value = wrongTypes.randomElement(using: &rng)!
            // null is "absent" for optional fields, a string is right for `input`.
            if value == "null", ["index", "tokens_to_generate"].contains(field) { value = "[1]" }
            if field == "input", value.hasPrefix("\"") { value = "7" }
            return (withField(field, value), "field '\(field)")
        case 2:  // A size out of range.
            let field = ["length", "tokens_to_generate"].randomElement(using: &rng)!
            let value = [huge, negative, field == "length" ? 0 : 65_537].randomElement(using: &rng)!
            return (withField(field, "\(value)"), "field '\(field)'")
        case 3:  // A position or index out of range.
            let field = ["index", "needle_positions"].randomElement(using: &rng)!
            let value = field == "index" ? "\(negative)" : "[\(negative)]"
            return (withField(field, value), "field '\(field)'")
        case 4:  // An unknown metric.
            return (withField("metric", #""bogus""#), "field 'metric'")
        default:  // Not a JSON object: the valid line cut short, or another JSON value.
            let cut = String(validLine.prefix(Int.random(in: 1..<validLine.count, using: &rng)))
            let other = ["[1, 2]", "42", #""text""#, "null"].randomElement(using: &rng)!
            return (Bool.random(using: &rng) ? cut : other, "not a")
        }
    }

    /// The valid line with `field` set to the JSON `value`.
    static func withField(_ field: String, _ value: String) -> String {
        var fields = [("input", #""Q?""#), ("outputs", #"["42"]"#), ("length", "300")]
        if let at = fields.firstIndex(where: { $0.0 == field }) {
            fields[at].1 = value
        } else {
            fields.append((field, value))
        }
        return "{" + fields.map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}"
    }

    @Test func generatedBadLinesAreRefusedNamingTheLineAndField() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var rng = SplitMix64(seed: 20_261_206)
        for number in 0..<Self.caseCount {
            let (line, word) = Self.badLine(&rng)
            // The bad line after 0 to 2 valid ones: its number must be the one named.
            let before = Int.random(in: 0...2, using: &rng)
            let url = directory.file("case-\(number).jsonl")
            let text = Array(repeating: Self.validLine, count: before) + [line]
            try Data(text.joined(separator: "\n").utf8).write(to: url)
            do {
                _ = try EvalTaskFile.read(url)
                Issue.record("case \(number) accepted: \(line)")
            } catch let error as EvalError {
                let message = error.description
                #expect(
                    message.hasPrefix("\(url.path):\(before + 1): ") && message.contains(word)
                        && !message.contains("\n"),
                    "case \(number): \(line) → \(message)")
            }
        }
    }
}
