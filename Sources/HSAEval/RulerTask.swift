import Foundation

/// RULER's tasks (NVIDIA/RULER scripts/synthetic.yaml): the synthetic ones and the two QA
/// tasks, which need the SQuAD / HotpotQA files (``QADataset``).
public enum RulerTask: String, CaseIterable, Codable, Sendable {
    case niahSingle1 = "niah_single_1"
    case niahSingle2 = "niah_single_2"
    case niahSingle3 = "niah_single_3"
    case niahMultikey1 = "niah_multikey_1"
    case niahMultikey2 = "niah_multikey_2"
    case niahMultikey3 = "niah_multikey_3"
    case niahMultivalue = "niah_multivalue"
    case niahMultiquery = "niah_multiquery"
    /// Variable tracking: one chain of 4 hops in noise.
    case vt
    /// Common words extraction: the 10 most common words of a numbered list.
    case cwe
    /// Frequent words extraction: the 3 most frequent coded words (Zipf, alpha 2).
    case fwe
    /// SQuAD question over its gold paragraph and distractor paragraphs.
    case qa1 = "qa_1"
    /// HotpotQA question over its two gold paragraphs and distractor paragraphs.
    case qa2 = "qa_2"

    /// The synthetic tasks (no external data), the suite's default "all".
    public static var synthetic: [RulerTask] { allCases.filter { $0.qaDataset == nil } }

    /// The QA set of qa_1 / qa_2, nil for the synthetic tasks.
    public var qaDataset: QADatasetKind? {
        switch self {
        case .qa1: return .squad
        case .qa2: return .hotpotqa
        default: return nil
        }
    }

    /// Answer-length limit in byte tokens. RULER's tokens_to_generate (niah 128, vt 30,
    /// cwe 120, fwe 50, qa 32) counts subword tokens of several bytes each; the limits that
    /// would cut a complete byte-level answer short are raised to fit one (vt 64, cwe 160,
    /// fwe 64, qa 64).
    public var tokensToGenerate: Int {
        switch self {
        case .vt, .qa1, .qa2: return 64
        case .cwe: return 160
        case .fwe: return 64
        default: return 128
        }
    }

    /// The NIAH configuration, or nil for vt, cwe and fwe.
    public var niah: NIAHConfiguration? {
        switch self {
        case .niahSingle1:
            return NIAHConfiguration(haystack: .noise, keyKind: .words, valueKind: .numbers)
        case .niahSingle2:
            return NIAHConfiguration(haystack: .essay, keyKind: .words, valueKind: .numbers)
        case .niahSingle3:
            return NIAHConfiguration(haystack: .essay, keyKind: .words, valueKind: .uuids)
        case .niahMultikey1:
            return NIAHConfiguration(
                haystack: .essay, keyKind: .words, valueKind: .numbers, keys: 4)
        case .niahMultikey2:
            return NIAHConfiguration(haystack: .needle, keyKind: .words, valueKind: .numbers)
        case .niahMultikey3:
            return NIAHConfiguration(haystack: .needle, keyKind: .uuids, valueKind: .uuids)
        case .niahMultivalue:
            return NIAHConfiguration(
                haystack: .essay, keyKind: .words, valueKind: .numbers, values: 4)
        case .niahMultiquery:
            return NIAHConfiguration(
                haystack: .essay, keyKind: .words, valueKind: .numbers, queries: 4)
        case .vt, .cwe, .fwe, .qa1, .qa2:
            return nil
        }
    }

    /// string_match_part for QA, string_match_all for every synthetic task (RULER
    /// scripts/eval/synthetic/constants.py).
    public var metric: ScoringMetric { qaDataset == nil ? .stringMatchAll : .stringMatchPart }
}

/// The haystack kinds of RULER's NIAH.
public enum HaystackKind: String, Codable, Sendable {
    /// "The grass is green. ..." repeated, sentences joined by newlines.
    case noise
    /// Essay sentences joined by spaces.
    case essay
    /// Distractor needles with random keys and values, joined by newlines.
    case needle
}

/// One NIAH variant: haystack, key/value kinds and how many keys, values and queries.
public struct NIAHConfiguration: Sendable, Equatable {
    /// Haystack kind.
    public var haystack: HaystackKind
    /// Kind of the needle keys.
    public var keyKind: NeedleValueKind
    /// Kind of the needle values.
    public var valueKind: NeedleValueKind
    /// Keys inserted (RULER num_needle_k; raised to `queries` when smaller).
    public var keys: Int
    /// Values per key (num_needle_v).
    public var values: Int
    /// Keys asked about (num_needle_q).
    public var queries: Int

    /// Creates a configuration.
    public init(
        haystack: HaystackKind, keyKind: NeedleValueKind, valueKind: NeedleValueKind,
        keys: Int = 1, values: Int = 1, queries: Int = 1
    ) {
        self.haystack = haystack
        self.keyKind = keyKind
        self.valueKind = valueKind
        self.keys = max(keys, queries)
        self.values = values
        self.queries = queries
    }
}

/// RULER's prompt texts (scripts/data/synthetic/constants.py), with `{context}` left in place.
enum RulerTemplates {
    static let noiseSentence =
        "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
    static let needle = "One of the special magic {type_needle_v} for {key} is: {value}."
    static let niah =
        "Some special magic {type_needle_v} are hidden within the following text. Make sure to "
        + "memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat "
        + "are all the special magic {type_needle_v} for {query} mentioned in the provided text?"
    static let niahAnswer =
        " The special magic {type_needle_v} for {query} mentioned in the provided text are"
    static let vt =
        "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n"
        + "{context}\nQuestion: Find all variables that are assigned the value {query} in the "
        + "text above."
    static let vtAnswer =
        " Answer: According to the chain(s) of variable assignment in the text above, {num_v} "
        + "variables are assigned the value {query}, they are: "
    static let cwe =
        "Below is a numbered list of words. In these words, some appear more often than others. "
        + "Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most "
        + "common words in the above list?"
    static let cweAnswer = " Answer: The top 10 words that appear most often in the list are:"
    static let fwe =
        "Read the following coded text and track the frequency of each coded word. Find the "
        + "three most frequently appeared coded words. {context}\nQuestion: Do not provide any "
        + "explanation. Please ignore the dots '....'. What are the three most frequently "
        + "appeared words in the above coded text?"
    static let fweAnswer =
        " Answer: According to the coded text above, the three most frequently appeared words "
        + "are:"

    static let qa =
        "Answer the question based on the given documents. Only give me the answer and do not "
        + "output any other words.\n\nThe following are given documents.\n\n{context}\n\n"
        + "Answer the question based on the given documents. Only give me the answer and do not "
        + "output any other words.\n\nQuestion: {query}"
    static let qaAnswer = " Answer:"
    /// Header of each document; documents are joined by a blank line.
    static let qaDocument = "Document {i}:\n"

    /// RULER's depth grid: round(linspace(0, 100, 40)).
    static let depths: [Double] = (0..<40).map { (Double($0) * 100 / 39).rounded() }

    /// `template` with each `{name}` replaced.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var text = template
        for (name, value) in values {
            text = text.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return text
    }

    /// `template` split around `{context}`.
    static func split(_ template: String) -> (prefix: String, suffix: String) {
        guard let range = template.range(of: "{context}") else { return (template, "") }
        return (String(template[..<range.lowerBound]), String(template[range.upperBound...]))
    }
}
