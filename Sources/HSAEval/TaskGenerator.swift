import Foundation
import HSACore

/// A task of either suite.
public enum EvalTask: Hashable, Sendable, CustomStringConvertible {
    /// A RULER task.
    case ruler(RulerTask)
    /// A BABILong task.
    case babilong(BabilongTask)
    /// A task of the copy suite (``CopyTask``).
    case copy(CopyTask)
    /// A task of the unseen-phrasing suite (``UnseenTask``).
    case unseen(UnseenTask)

    /// The task's name ("niah_single_1", "qa1").
    public var name: String {
        switch self {
        case .ruler(let task): return task.rawValue
        case .babilong(let task): return task.rawValue
        case .copy(let task): return task.rawValue
        case .unseen(let task): return task.rawValue
        }
    }

    /// The suite name ("ruler" or "babilong").
    public var suite: String {
        switch self {
        case .ruler: return EvalSuite.ruler.rawValue
        case .babilong: return EvalSuite.babilong.rawValue
        case .copy: return EvalSuite.copy.rawValue
        case .unseen: return EvalSuite.unseen.rawValue
        }
    }

    /// Whether it is a needle-in-a-haystack task (depth heat maps are drawn for these).
    public var isNeedleTask: Bool {
        if case .ruler(let task) = self { return task.niah != nil }
        return false
    }

    public var description: String { name }
}

/// The built-in suites.
public enum EvalSuite: String, CaseIterable, Sendable {
    /// RULER's synthetic tasks.
    case ruler
    /// BABILong qa1-qa5.
    case babilong
    /// Copying a line of letters back across filler (``CopyTask``).
    case copy
    /// Retrieval prompts in wordings no training generator uses (``UnseenTask``).
    case unseen

    /// Every task without external data, in the suite's order ("all"; RULER's qa_1 and qa_2
    /// must be named).
    public var tasks: [EvalTask] {
        switch self {
        case .ruler: return RulerTask.synthetic.map { .ruler($0) }
        case .babilong: return BabilongTask.allCases.map { .babilong($0) }
        case .copy: return CopyTask.allCases.map { .copy($0) }
        case .unseen: return UnseenTask.allCases.map { .unseen($0) }
        }
    }

    /// Every task that can be named, QA tasks included.
    public var namedTasks: [EvalTask] {
        switch self {
        case .ruler: return RulerTask.allCases.map { .ruler($0) }
        case .babilong, .copy, .unseen: return tasks
        }
    }

    /// The named tasks ("niah_single_1,vt", "all,qa_1,qa_2"); "all" (or nil) stands for
    /// ``tasks``. Duplicates are dropped.
    public func tasks(named list: String?) throws -> [EvalTask] {
        guard let list else { return tasks }
        var result: [EvalTask] = []
        for part in list.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            let found: [EvalTask]
            if name == "all" {
                found = tasks
            } else if let task = namedTasks.first(where: { $0.name == name }) {
                found = [task]
            } else {
                throw EvalError.unknownTask(
                    name: name, suite: rawValue, known: namedTasks.map(\.name))
            }
            result += found.filter { !result.contains($0) }
        }
        return result
    }
}

/// Generates samples of every task deterministically from (seed, task, length, index).
public struct TaskGenerator: Sendable {
    /// Texts and word lists.
    public let sources: EvalTextSources
    /// The value half (evaluation or training) every random value is drawn from.
    public let space: ValueSpace
    /// SQuAD / HotpotQA for qa_1 / qa_2 (a QA task whose set is absent throws).
    public let qaDatasets: [QADatasetKind: QADataset]
    let values: NeedleValueSampler

    /// Creates a generator.
    public init(
        sources: EvalTextSources, space: ValueSpace = .evaluation,
        qaDatasets: [QADatasetKind: QADataset] = [:]
    ) {
        self.sources = sources
        self.space = space
        self.qaDatasets = qaDatasets
        values = NeedleValueSampler(sources: sources, space: space)
    }

    /// The sample `job` names.
    public func sample(_ job: EvalJob) throws -> EvalSample {
        try sample(job.task, length: job.length, index: job.index, seed: job.seed, depth: job.depth)
    }

    /// Sample `index` of `task` at exactly `length` tokens.
    /// - Parameters:
    ///   - depth: NIAH only: depth in percent (0...100) of the queried needle; nil = random
    ///     from RULER's 40-point grid. Other tasks ignore it.
    /// - Throws: ``EvalError/lengthTooShort(task:length:minimum:)``,
    ///   ``EvalError/missingQAData(task:path:)`` for a QA task without its dataset.
    public func sample(
        _ task: EvalTask, length: Int, index: Int, seed: UInt64, depth: Double? = nil
    ) throws -> EvalSample {
        try sample(task, length: length, byteLength: length, index: index, seed: seed, depth: depth)
    }

    /// Sample `index` of `task` for `length`, built to exactly `byteLength` bytes. The seed
    /// comes from `length`, not `byteLength`, so a sample rebuilt at another byte length (to
    /// fit a subword tokenizer's budget) is still a function of the job alone.
    func sample(
        _ task: EvalTask, length: Int, byteLength: Int, index: Int, seed: UInt64, depth: Double?
    ) throws -> EvalSample {
        let derived = SampleSeed.derive(
            seed: space.effectiveSeed(seed), task: task.name, length: length, index: index)
        var rng = SplitMix64(seed: derived)
        var sample: EvalSample
        switch task {
        case .ruler(let ruler):
            if let kind = ruler.qaDataset {
                sample = try qaSample(ruler, kind, length: byteLength, index: index, rng: &rng)
            } else if let niah = ruler.niah {
                sample = try niahSample(ruler, niah, length: byteLength, depth: depth, rng: &rng)
            } else {
                switch ruler {
                case .vt: sample = try variableTrackingSample(length: byteLength, rng: &rng)
                case .cwe: sample = try commonWordsSample(length: byteLength, rng: &rng)
                default: sample = try frequentWordsSample(length: byteLength, rng: &rng)
                }
            }
        case .babilong(let babi):
            sample = try babilongSample(babi, length: byteLength, rng: &rng)
        case .copy:
            sample = try copyLineSample(length: byteLength, rng: &rng)
        case .unseen(let unseen):
            sample = try unseenSample(unseen, length: byteLength, rng: &rng)
        }
        sample.index = index
        sample.seed = seed
        sample.length = length
        return sample
    }

    // MARK: - NIAH

    func niahSample(
        _ task: RulerTask, _ config: NIAHConfiguration, length: Int, depth: Double?,
        rng: inout SplitMix64
    ) throws -> EvalSample {
        var keys: [String] = []
        while keys.count < config.keys {
            let key = values.value(config.keyKind, rng: &rng)
            if !keys.contains(key) { keys.append(key) }
        }
        let valueNoun = config.valueKind.rawValue
        var needles: [(key: Int, text: String, value: String)] = []
        for (k, key) in keys.enumerated() {
            for _ in 0..<config.values {
                let value = values.value(config.valueKind, rng: &rng)
                let text = RulerTemplates.fill(
                    RulerTemplates.needle, ["type_needle_v": valueNoun, "key": key, "value": value])
                needles.append((k, text, value))
            }
        }
        let queried = sampleWithoutReplacement(
            Array(0..<keys.count), count: config.queries, rng: &rng)
        let answers = queried.flatMap { k in needles.filter { $0.key == k }.map(\.value) }
        // Depths: the first needle of the first queried key is the controlled one.
        var depths = sampleWithoutReplacement(
            RulerTemplates.depths, count: needles.count, rng: &rng)
        while depths.count < needles.count {
            depths.append(RulerTemplates.depths[Int.random(in: 0..<40, using: &rng)])
        }
        let primary = needles.firstIndex { $0.key == queried[0] } ?? 0
        if let depth { depths[primary] = min(max(depth, 0), 100) }
        // Template; RULER's singular wording when one value is asked for.
        var template = RulerTemplates.niah + "\u{0}" + RulerTemplates.niahAnswer
        var noun = valueNoun
        if config.queries * config.values == 1 {
            for (from, to) in [
                ("Some", "A"), ("are all", "is"), ("are", "is"), ("answers", "answer"),
            ] {
                template = template.replacingOccurrences(of: from, with: to)
            }
            noun = config.valueKind.singular
        }
        let queryKeys = queried.map { keys[$0] }
        let query =
            queryKeys.count > 1
            ? queryKeys.dropLast().joined(separator: ", ") + ", and " + (queryKeys.last ?? "")
            : queryKeys[0]
        let filled = RulerTemplates.fill(template, ["type_needle_v": noun, "query": query])
        let halves = filled.components(separatedBy: "\u{0}")
        let parts = RulerTemplates.split(halves[0])
        let assembly = SampleAssembly(
            prefix: parts.prefix, suffix: parts.suffix, answerPrefix: halves[1],
            tokensToGenerate: task.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: task.rawValue)
        let filler: FillerSource
        let joiner: [UInt8]
        switch config.haystack {
        case .noise:
            filler = .repeated(Array(RulerTemplates.noiseSentence.utf8))
            joiner = Array("\n".utf8)
        case .essay:
            filler = .sentences(sources.essaySentences, start: essayStart(rng: &rng))
            joiner = Array(" ".utf8)
        case .needle:
            let sampler = values
            let keySet = Set(keys)
            filler = .generated { rng in
                var key = sampler.value(config.keyKind, rng: &rng)
                while keySet.contains(key) { key = sampler.value(config.keyKind, rng: &rng) }
                let value = sampler.value(config.valueKind, rng: &rng)
                return Array(
                    RulerTemplates.fill(
                        RulerTemplates.needle,
                        ["type_needle_v": valueNoun, "key": key, "value": value]
                    ).utf8)
            }
            joiner = Array("\n".utf8)
        }
        let insertions = needles.enumerated().map { i, needle in
            ContextInsertion(text: Array(needle.text.utf8), depth: depths[i] / 100)
        }
        let built = try ContextBuilder.build(
            budget: budget, filler: filler, joiner: joiner, insertions: insertions, rng: &rng,
            task: task.rawValue, overhead: length - budget)
        // Positions of the values, not of the sentences: a needle (60-110 bytes) is longer
        // than a chunk, and the retrieval diagnostics must look for the chunk holding the answer.
        let valueOffsets = zip(built.insertionOffsets, needles).map { offset, needle in
            offset + needle.text.utf8.count - needle.value.utf8.count - 1  // "... is: VALUE."
        }
        let (input, positions) = assembly.input(context: built.bytes, offsets: valueOffsets)
        // Needles of keys that are not asked for are look-alike distractors.
        let isAnswer = needles.map { needle in queried.contains(needle.key) }
        return EvalSample(
            index: 0, input: input, outputs: answers, length: length,
            answerPrefix: assembly.answerPrefix, task: task.rawValue, suite: "ruler",
            depth: depths[primary],
            needlePositions: zip(positions, isAnswer).filter(\.1).map(\.0),
            distractorPositions: zip(positions, isAnswer).filter { !$0.1 }.map(\.0),
            tokensToGenerate: task.tokensToGenerate, metric: task.metric)
    }

    /// Evaluation starts essays at their beginning, as RULER does; training at a random
    /// sentence so training contexts vary.
    func essayStart(rng: inout SplitMix64) -> Int {
        guard space == .training, !sources.essaySentences.isEmpty else { return 0 }
        return Int.random(in: 0..<sources.essaySentences.count, using: &rng)
    }
}
