import Foundation

/// The two reading-comprehension sets of RULER's QA tasks.
public enum QADatasetKind: String, CaseIterable, Sendable {
    /// SQuAD 2.0 dev (RULER qa_1): one gold paragraph per question.
    case squad
    /// HotpotQA dev, distractor setting (RULER qa_2): two gold paragraphs per question.
    case hotpotqa

    /// The file under the data directory that `scripts/install_eval_data.sh` writes.
    public var relativePath: String { "eval/\(rawValue).json" }

    /// The RULER task that uses it.
    public var task: RulerTask { self == .squad ? .qa1 : .qa2 }
}

/// One question: its references and the documents it is answered from.
public struct QAQuestion: Sendable, Equatable {
    /// The question text (ASCII).
    public var query: String
    /// Reference answers (ASCII); scored with string_match_part.
    public var outputs: [String]
    /// Indices into ``QADataset/documents`` of the gold paragraphs (always in the context).
    public var gold: [Int]
    /// Indices of related paragraphs placed before random distractors while room is left:
    /// SQuAD the article's other paragraphs, HotpotQA the question's own 8 distractors.
    public var related: [Int]

    /// Creates a question.
    public init(query: String, outputs: [String], gold: [Int], related: [Int] = []) {
        self.query = query
        self.outputs = outputs
        self.gold = gold
        self.related = related
    }
}

/// Paragraphs and questions of a QA set, folded to ASCII (one byte per token), following
/// RULER's readers (scripts/data/synthetic/qa.py): unique paragraphs; SQuAD without its
/// unanswerable questions; a HotpotQA paragraph is its title, a newline and its sentences.
public struct QADataset: Sendable, Equatable {
    /// Unique paragraphs, ASCII bytes each.
    public var documents: [[UInt8]]
    /// Questions in file order (sample `i` asks question `i % count`, as RULER does).
    public var questions: [QAQuestion]

    /// Creates a dataset.
    public init(documents: [[UInt8]], questions: [QAQuestion]) {
        self.documents = documents
        self.questions = questions
    }

    /// The datasets of the QA tasks among `jobs`, read from `dataDirectory`; only those (HotpotQA
    /// is 46 MB of JSON).
    public static func load(neededBy jobs: [EvalJob], dataDirectory: URL) throws
        -> [QADatasetKind: QADataset]
    {
        var datasets: [QADatasetKind: QADataset] = [:]
        for kind in QADatasetKind.allCases
        where jobs.contains(where: { $0.task == .ruler(kind.task) }) {
            datasets[kind] = try load(kind, dataDirectory: dataDirectory)
        }
        return datasets
    }

    /// Reads `kind`'s file under `dataDirectory` (the repository's `data/`).
    /// - Throws: ``EvalError/missingQAData(task:path:)`` when the file is absent,
    ///   ``EvalError/cannotRead(path:reason:)`` when it does not parse.
    public static func load(_ kind: QADatasetKind, dataDirectory: URL) throws -> QADataset {
        let url = dataDirectory.appendingPathComponent(kind.relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EvalError.missingQAData(task: kind.task.rawValue, path: url.path)
        }
        do {
            let data = try Data(contentsOf: url)
            switch kind {
            case .squad: return try squad(json: data)
            case .hotpotqa: return try hotpotQA(json: data)
            }
        } catch let error as EvalError {
            throw error
        } catch {
            throw EvalError.cannotRead(path: url.path, reason: "\(error)")
        }
    }

    // MARK: - Readers

    /// SQuAD 2.0 JSON (`data[].paragraphs[].{context, qas[]}`).
    public static func squad(json: Data) throws -> QADataset {
        let file = try JSONDecoder().decode(SquadFile.self, from: json)
        var table = DocumentTable()
        var questions: [QAQuestion] = []
        for article in file.data {
            let paragraphs = article.paragraphs.map { table.index(fold($0.context)) }
            for (p, paragraph) in article.paragraphs.enumerated() {
                let related = paragraphs.filter { $0 != paragraphs[p] }
                for qa in paragraph.qas where !(qa.isImpossible ?? false) {
                    let outputs = cleanAnswers(qa.answers.map(\.text))
                    guard !outputs.isEmpty else { continue }
                    questions.append(
                        QAQuestion(
                            query: String(decoding: fold(qa.question), as: UTF8.self),
                            outputs: outputs, gold: [paragraphs[p]], related: related))
                }
            }
        }
        return QADataset(documents: table.documents, questions: questions)
    }

    /// HotpotQA JSON (`[{question, answer, context: [[title, [sentence]]],
    /// supporting_facts: [[title, sentence]]}]`). Gold paragraphs are the supporting ones.
    public static func hotpotQA(json: Data) throws -> QADataset {
        let entries = try JSONDecoder().decode([HotpotEntry].self, from: json)
        var table = DocumentTable()
        var questions: [QAQuestion] = []
        for entry in entries {
            let supporting = Set(entry.supportingFacts.map(\.title))
            var gold: [Int] = []
            var related: [Int] = []
            for paragraph in entry.context {
                let text =
                    fold(paragraph.title) + Array("\n".utf8)
                    + fold(paragraph.sentences.joined())
                let index = table.index(text)
                if supporting.contains(paragraph.title) {
                    gold.append(index)
                } else {
                    related.append(index)
                }
            }
            let outputs = cleanAnswers([entry.answer])
            guard !outputs.isEmpty, !gold.isEmpty else { continue }
            questions.append(
                QAQuestion(
                    query: String(decoding: fold(entry.question), as: UTF8.self),
                    outputs: outputs, gold: gold, related: related))
        }
        return QADataset(documents: table.documents, questions: questions)
    }

    private static func fold(_ text: String) -> [UInt8] { EvalTextSources.foldToASCII(text) }

    /// ASCII answers, empty ones dropped, duplicates removed (first kept).
    private static func cleanAnswers(_ answers: [String]) -> [String] {
        var seen: Set<String> = []
        return answers.map { String(decoding: fold($0), as: UTF8.self) }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
    }
}

// MARK: - File formats

/// Unique documents in first-seen order.
private struct DocumentTable {
    var documents: [[UInt8]] = []
    var indices: [[UInt8]: Int] = [:]

    mutating func index(_ text: [UInt8]) -> Int {
        if let known = indices[text] { return known }
        indices[text] = documents.count
        documents.append(text)
        return documents.count - 1
    }
}

private struct SquadFile: Decodable {
    struct Article: Decodable { var paragraphs: [Paragraph] }
    struct Paragraph: Decodable {
        var context: String
        var qas: [Question]
    }
    struct Question: Decodable {
        var question: String
        var answers: [Answer]
        var isImpossible: Bool?
        enum CodingKeys: String, CodingKey {
            case question, answers
            case isImpossible = "is_impossible"
        }
    }
    struct Answer: Decodable { var text: String }
    var data: [Article]
}

private struct HotpotEntry: Decodable {
    /// `[title, [sentence]]`.
    struct Paragraph: Decodable {
        var title: String
        var sentences: [String]
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            title = try c.decode(String.self)
            sentences = try c.decode([String].self)
        }
    }
    /// `[title, sentence index]`.
    struct Fact: Decodable {
        var title: String
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            title = try c.decode(String.self)
        }
    }
    var question: String
    var answer: String
    var context: [Paragraph]
    var supportingFacts: [Fact]
    enum CodingKeys: String, CodingKey {
        case question, answer, context
        case supportingFacts = "supporting_facts"
    }
}
