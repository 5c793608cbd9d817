import Foundation
import HSAData

/// What the evaluation harness needs from a model: greedy continuation of a token prompt.
public protocol EvaluationModel: AnyObject {
    /// Number of token ids the model accepts (prompts must stay below it).
    var vocabularySize: Int { get }
    /// The tokenizer of its prompts and outputs (sample lengths count its tokens).
    var tokenizer: any Tokenizer { get }
    /// Up to `maxTokens` tokens continuing `prompt` (stopping early at end of sequence).
    func generate(prompt: [Int32], maxTokens: Int) throws -> [Int32]
    /// Optional retrieval diagnostics for a prompt whose answer needles are at
    /// `needlePositions` and look-alike distractors at `distractorPositions` (for example the
    /// fraction of sparse-attention selections that hit a needle's chunk). nil when the model
    /// has none.
    func retrievalDiagnostics(
        prompt: [Int32], needlePositions: [Int], distractorPositions: [Int]
    ) throws -> [String: Double]?
}

extension EvaluationModel {
    /// The byte tokenizer by default.
    public var tokenizer: any Tokenizer { ByteTokenizer() }

    /// No diagnostics by default.
    public func retrievalDiagnostics(
        prompt: [Int32], needlePositions: [Int], distractorPositions: [Int]
    ) throws -> [String: Double]? { nil }
}

// MARK: - Test models

/// A model that answers from the prompt text through a function of the decoded prompt; used to
/// test the harness without training (a "cheating" model finds needles by string search).
public final class TextFunctionModel: EvaluationModel {
    /// 259, the byte tokenizer's vocabulary.
    public let vocabularySize = ByteTokenizer().vocabularySize
    private let answer: (String) -> String

    /// A model whose continuation of a prompt is `answer(promptText)`.
    public init(answer: @escaping (String) -> String) { self.answer = answer }

    /// The bytes of `answer(prompt text)`, truncated to `maxTokens`.
    public func generate(prompt: [Int32], maxTokens: Int) throws -> [Int32] {
        let tokenizer = ByteTokenizer()
        return Array(tokenizer.encode(answer(tokenizer.decode(prompt))).prefix(maxTokens))
    }

    /// Always answers `text` (a wrong answer model when `text` is no reference).
    public static func constant(_ text: String) -> TextFunctionModel {
        TextFunctionModel { _ in text }
    }

    /// Cheats on NIAH: finds the queried keys in the question and every
    /// "for KEY is: VALUE." needle in the text.
    public static func needleSearch() -> TextFunctionModel {
        TextFunctionModel { NeedleSearch.answer(prompt: $0) }
    }

    /// The reference model `hsa eval --reference-model` names: `needle-search` (cheats on
    /// NIAH) or `wrong` (never right); nil for any other name.
    public static func reference(named name: String) -> TextFunctionModel? {
        switch name {
        case "needle-search": return needleSearch()
        case "wrong": return constant(" I do not remember.")
        default: return nil
        }
    }

    /// Knows every sample's answer: looks the prompt up (tests the harness on any task).
    public static func answerKey(_ samples: [EvalSample]) -> TextFunctionModel {
        var answers: [String: String] = [:]
        for sample in samples {
            answers[sample.promptText] = " " + sample.outputs.joined(separator: ", ") + "."
        }
        return TextFunctionModel { prompt in
            // The decoded prompt has no BOS text, so it equals input + answer prefix.
            answers[prompt] ?? ""
        }
    }
}

/// String search over a NIAH prompt.
public enum NeedleSearch {
    /// The values of all needles of the keys asked about, joined by ", ".
    public static func answer(prompt: String) -> String {
        guard let questionStart = prompt.range(of: "\nWhat ", options: .backwards),
            let forRange = prompt.range(
                of: " for ", range: questionStart.upperBound..<prompt.endIndex),
            let endRange = prompt.range(
                of: " mentioned in the provided text", range: forRange.upperBound..<prompt.endIndex)
        else { return "" }
        let query = String(prompt[forRange.upperBound..<endRange.lowerBound])
        let keys = query.replacingOccurrences(of: ", and ", with: ", ")
            .components(separatedBy: ", ")
        let haystack = prompt[..<questionStart.lowerBound]
        var values: [String] = []
        for key in keys {
            var searchStart = haystack.startIndex
            let marker = " for \(key) is: "
            while let hit = haystack.range(of: marker, range: searchStart..<haystack.endIndex) {
                let rest = haystack[hit.upperBound...]
                let end = rest.firstIndex(of: "\n") ?? rest.endIndex
                var value = String(rest[..<end])
                if let space = value.firstIndex(of: " ") { value = String(value[..<space]) }
                if value.hasSuffix(".") { value.removeLast() }
                values.append(value)
                searchStart = hit.upperBound
            }
        }
        return " " + values.joined(separator: ", ") + "."
    }
}
