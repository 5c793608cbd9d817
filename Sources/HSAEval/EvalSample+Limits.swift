import Foundation
import HSACore

/// Bounds on a task-file line, so one line can ask for neither unbounded generation nor an
/// unbounded prompt (docs/RELIABILITY.md, "Validation rules and limits").
extension EvalSample {
    /// Largest `tokens_to_generate` (and ``generationLimit``): 2^16 tokens.
    public static let maxTokensToGenerate = 1 << 16
    /// Largest `length` in tokens: 2^30, ContextLength's "1G".
    public static let maxLength = 1 << 30
    /// Largest `input` plus `answer_prefix` in UTF-8 bytes (byte tokens): 2^30.
    public static let maxPromptBytes = 1 << 30

    /// The first field outside its range, as "field 'name': value must be in a...b", or nil.
    public var limitViolation: String? {
        let promptBytes = input.utf8.count + answerPrefix.utf8.count
        let checks: [(String, Int, ClosedRange<Int>)] = [
            ("index", index, 0...Int.max),
            ("length", length, 1...Self.maxLength),
            ("tokens_to_generate", tokensToGenerate, 0...Self.maxTokensToGenerate),
            ("input", promptBytes, 0...Self.maxPromptBytes),
        ]
        for (field, value, range) in checks where !range.contains(value) {
            let unit = field == "input" ? " bytes (with answer_prefix)" : ""
            return "field '\(field)': \(value)\(unit) must be in "
                + "\(range.lowerBound)...\(range.upperBound)"
        }
        for (field, positions) in [
            ("needle_positions", needlePositions), ("distractor_positions", distractorPositions),
        ] {
            if let bad = positions.first(where: { !(0...Self.maxLength).contains($0) }) {
                return "field '\(field)': \(bad) must be in 0...\(Self.maxLength)"
            }
        }
        return nil
    }
}

/// A one-line reason why `line` does not decode as a sample: not JSON, not an object, a
/// non-integer number in an integer field (which the decoder reports without its field), or
/// the field and what was wrong with it.
func describeTaskLineError(_ error: any Error, line: Data) -> String {
    guard let object = try? JSONSerialization.jsonObject(with: line, options: .fragmentsAllowed)
    else { return "not a valid JSON object" }
    guard let fields = object as? [String: Any] else { return "not a JSON object" }
    for field in ["index", "length", "tokens_to_generate", "seed"] {
        // A bool reads as 0 or 1 here and is left to the decoder's type mismatch.
        if let number = fields[field] as? Double, number.rounded() != number || abs(number) > 9e18 {
            return "field '\(field)': must be an integer, got \(number)"
        }
    }
    guard let error = error as? DecodingError else { return "\(error)" }
    return error.fieldDescription
}
