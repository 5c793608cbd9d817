import Foundation
import HSACore

/// How a prediction is scored against a sample's references.
public enum ScoringMetric: String, Codable, Sendable {
    /// RULER: fraction of references found in the prediction (case-insensitive).
    case stringMatchAll = "string_match_all"
    /// RULER: 1 when any reference is found in the prediction.
    case stringMatchPart = "string_match_part"
    /// BABILong: the target is the only task label in the prediction's first sentence.
    case babilongExact = "babilong_exact"
}

/// One evaluation sample, compatible with RULER's prepared JSONL (`index`, `input`, `outputs`,
/// `length`, `answer_prefix`) plus this project's metadata.
///
/// The model's prompt is `[BOS] + tokens(input + answer_prefix)`; for generated samples
/// `1 + bytes(input + answer_prefix) + tokens_to_generate == length` exactly (byte tokenizer);
/// for a model with another tokenizer the same sum in its tokens is at most `length` and within
/// about 1% of it (`TaskGenerator.sample(_:tokenizer:)`).
/// Lines written elsewhere (no `suite` field, e.g. NVIDIA RULER's generator) are normalized on
/// reading: an `input` that already ends with its `answer_prefix` is cut before it, so the prefix
/// is not doubled, and their `tokens_to_generate` is only a floor (``generationLimit``).
public struct EvalSample: Codable, Sendable, Equatable {
    /// Sample number within its task and length.
    public var index: Int
    /// The prompt text up to the answer prefix.
    public var input: String
    /// Reference answers.
    public var outputs: [String]
    /// Target total length in tokens: prompt (with BOS) plus tokens to generate.
    public var length: Int
    /// Text appended to `input` that starts the answer (may be empty).
    public var answerPrefix: String
    /// Task name ("niah_single_1", "qa2", or "file" for task files without one).
    public var task: String
    /// Suite name ("ruler", "babilong" or "file").
    public var suite: String
    /// Depth of the queried needle in percent (0 = start, 100 = end), when controlled.
    public var depth: Double?
    /// The base seed it was generated from.
    public var seed: UInt64?
    /// Token positions in the prompt (BOS = position 0) of each answer needle's value (NIAH:
    /// the needles whose values are the answers, which retrieval must reach) or where each fact
    /// starts.
    public var needlePositions: [Int]
    /// Token positions of the values of needles that are not answers (NIAH's other keys:
    /// look-alike distractors); empty for other tasks.
    public var distractorPositions: [Int]
    /// Answer length limit in tokens (RULER's tokens_to_generate); the evaluated model's tokens
    /// when ``countsByteTokens`` (byte tokens for byte-level models), else another tokenizer's
    /// units.
    public var tokensToGenerate: Int
    /// Whether ``tokensToGenerate`` counts this project's byte tokens: true for generated
    /// samples and for lines carrying `suite` (written by `hsa eval --write-tasks`), false for
    /// lines from elsewhere, whose counts are in their generator's tokenizer. Not serialized.
    public var countsByteTokens: Bool
    /// How it is scored.
    public var metric: ScoringMetric
    /// BABILong: the question (labels it mentions never count as answers).
    public var question: String?
    /// BABILong: the task's label set.
    public var labels: [String]?

    /// Creates a sample.
    public init(
        index: Int, input: String, outputs: [String], length: Int, answerPrefix: String,
        task: String, suite: String, depth: Double? = nil, seed: UInt64? = nil,
        needlePositions: [Int] = [], distractorPositions: [Int] = [], tokensToGenerate: Int,
        countsByteTokens: Bool = true, metric: ScoringMetric,
        question: String? = nil, labels: [String]? = nil
    ) {
        self.index = index
        self.input = input
        self.outputs = outputs
        self.length = length
        self.answerPrefix = answerPrefix
        self.task = task
        self.suite = suite
        self.depth = depth
        self.seed = seed
        self.needlePositions = needlePositions
        self.distractorPositions = distractorPositions
        self.tokensToGenerate = tokensToGenerate
        self.countsByteTokens = countsByteTokens
        self.metric = metric
        self.question = question
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey {
        case index, input, outputs, length, task, suite, depth, seed, metric, question, labels
        case answerPrefix = "answer_prefix"
        case needlePositions = "needle_positions"
        case distractorPositions = "distractor_positions"
        case tokensToGenerate = "tokens_to_generate"
    }

    /// Decodes RULER's fields (required: `input`, `outputs`, `length`) and ours (optional).
    /// Fields of other RULER versions (`length_w_model_temp`, `token_position_answer`, ...) are
    /// ignored. A line without `suite` comes from elsewhere: see ``countsByteTokens``, and an
    /// `input` ending with `answer_prefix` is cut before it (``promptText`` stays `input`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = try c.decodeIfPresent(Int.self, forKey: .index) ?? 0
        input = try c.decode(String.self, forKey: .input)
        outputs = try c.decode([String].self, forKey: .outputs)
        length = try c.decode(Int.self, forKey: .length)
        answerPrefix = try c.decodeIfPresent(String.self, forKey: .answerPrefix) ?? ""
        // `hsa eval --write-tasks` always writes `suite`; its lines are read back unchanged.
        countsByteTokens = c.contains(.suite)
        // RULER's prepare.py appends the answer prefix to the template, so `input` ends with it;
        // versions that also write `answer_prefix` may keep it in `input` as well. Our own
        // lines are never cut: their input is the prompt before the prefix by construction.
        if !countsByteTokens, !answerPrefix.isEmpty, input.hasSuffix(answerPrefix) {
            input.removeLast(answerPrefix.count)
        }
        task = try c.decodeIfPresent(String.self, forKey: .task) ?? "file"
        suite = try c.decodeIfPresent(String.self, forKey: .suite) ?? "file"
        depth = try c.decodeIfPresent(Double.self, forKey: .depth)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        needlePositions = try c.decodeIfPresent([Int].self, forKey: .needlePositions) ?? []
        distractorPositions =
            try c.decodeIfPresent([Int].self, forKey: .distractorPositions) ?? []
        metric = try c.decodeIfPresent(ScoringMetric.self, forKey: .metric) ?? .stringMatchAll
        tokensToGenerate =
            try c.decodeIfPresent(Int.self, forKey: .tokensToGenerate)
            ?? Self.defaultTokensToGenerate(task: task)
        question = try c.decodeIfPresent(String.self, forKey: .question)
        labels = try c.decodeIfPresent([String].self, forKey: .labels)
    }

    /// The full prompt text the model continues.
    public var promptText: String { input + answerPrefix }

    /// Extra bytes allowed beyond the reference answers of a line from elsewhere: a leading
    /// space, a closing period, a short preamble.
    public static let answerMargin = 16

    /// Byte tokens the model may generate (it stops earlier at end of sequence). For this
    /// project's samples, ``tokensToGenerate``. A line from elsewhere counts it in its own
    /// tokenizer's units (RULER: 128 subword tokens for NIAH, 30 for vt, 32 for QA), where one
    /// token is often several bytes, so it is only a floor: the limit also covers every
    /// reference answer in full with a ", " after each (string_match_all needs them all) plus
    /// ``answerMargin``, so a budget in the other units never cuts an answer short.
    public var generationLimit: Int {
        guard !countsByteTokens else { return tokensToGenerate }
        let answersBytes = outputs.reduce(0) { $0 + $1.utf8.count + 2 }
        // Capped: very long references must not make generation unbounded.
        return min(
            max(tokensToGenerate, answersBytes + Self.answerMargin), Self.maxTokensToGenerate)
    }

    /// Key identifying the sample in a results file: task, length and index.
    public var resultKey: String { "\(task)|\(length)|\(index)" }

    /// RULER's tokens_to_generate for a task name (128 when unknown, as for NIAH).
    public static func defaultTokensToGenerate(task: String) -> Int {
        if let ruler = RulerTask(rawValue: task) { return ruler.tokensToGenerate }
        if BabilongTask(rawValue: task) != nil { return BabilongTask.tokensToGenerate }
        if CopyTask(rawValue: task) != nil { return CopyTask.tokensToGenerate }
        if UnseenTask(rawValue: task) != nil { return UnseenTask.tokensToGenerate }
        return 128
    }
}

// MARK: - Task files

/// Reading and writing sample files (RULER-compatible JSON Lines).
public enum EvalTaskFile {
    /// Every sample of `url`, one per line. Blank lines are skipped, but a file without any
    /// sample is an error (an evaluation of nothing is a mistake, not a result).
    /// - Throws: ``EvalError/invalidTaskFile(path:line:reason:)`` naming the bad line and
    ///   field (``EvalSample/limitViolation`` for values out of range), or
    ///   ``EvalError/emptyTaskFile(path:)``.
    public static func read(_ url: URL) throws -> [EvalSample] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EvalError.cannotRead(path: url.path, reason: error.localizedDescription)
        }
        let decoder = JSONDecoder()
        var samples: [EvalSample] = []
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (number, line) in lines.enumerated() {
            guard line.contains(where: { $0 > 0x20 }) else { continue }
            let sample: EvalSample
            do {
                sample = try decoder.decode(EvalSample.self, from: Data(line))
            } catch {
                let reason = describeTaskLineError(error, line: Data(line))
                throw EvalError.invalidTaskFile(path: url.path, line: number + 1, reason: reason)
            }
            if let violation = sample.limitViolation {
                throw EvalError.invalidTaskFile(path: url.path, line: number + 1, reason: violation)
            }
            samples.append(sample)
        }
        guard !samples.isEmpty else { throw EvalError.emptyTaskFile(path: url.path) }
        return samples
    }

    /// Writes `samples` to `url`, one JSON object per line (replacing the file).
    public static func write(_ samples: [EvalSample], to url: URL) throws {
        let writer = try JSONLinesWriter(url: url, append: false)
        for sample in samples { try writer.write(sample) }
    }
}
