import Foundation
import HSACore
import HSAData
import HSAReport

/// Runs samples through an ``EvaluationModel`` and records every score in
/// `results.jsonl` as it goes; samples already in that file are skipped, so an interrupted
/// sweep resumes where it stopped. `summary.json`, `results.md` and plots are written at the end
/// (``EvalReport``).
public final class EvalHarness {
    /// The model under test.
    public let model: any EvaluationModel
    /// Directory of results.jsonl, summary.json, results.md and the plots.
    public let outputDirectory: URL
    /// Generates samples for sweeps.
    public let generator: TaskGenerator
    /// Whether to draw a progress bar on standard error.
    public var showProgress: Bool
    /// Whether to print progress lines (`ProgressLog`) on standard output, for logs where
    /// no bar is drawn.
    public var logsProgress = false
    /// Whether to ask the model for retrieval diagnostics on samples with needles.
    public var collectDiagnostics: Bool
    /// The model's tokenizer: prompts are encoded, outputs decoded and lengths counted in it.
    private var tokenizer: any Tokenizer { model.tokenizer }

    /// The results file.
    public var resultsURL: URL { outputDirectory.appendingPathComponent("results.jsonl") }

    /// Creates a harness writing into `outputDirectory` (created when missing).
    public init(
        model: any EvaluationModel, outputDirectory: URL, generator: TaskGenerator,
        showProgress: Bool = Terminal.isInteractive, collectDiagnostics: Bool = false
    ) throws {
        self.model = model
        self.outputDirectory = outputDirectory
        self.generator = generator
        self.showProgress = showProgress
        self.collectDiagnostics = collectDiagnostics
        try FileManager.default.createDirectory(
            at: outputDirectory, withIntermediateDirectories: true)
    }

    /// Results already recorded, by key (an unparsable last line from a crash is ignored).
    public func existingResults() throws -> [String: EvalResult] {
        // Checked before reading: a link could name anything (a huge file, a device).
        try JSONLines.refuseSymbolicLink(resultsURL)
        guard FileManager.default.fileExists(atPath: resultsURL.path) else { return [:] }
        let results = try Self.recordedResults(at: resultsURL)
        return Dictionary(uniqueKeysWithValues: results.map { ($0.key, $0) })
    }

    /// The results in a results.jsonl in file order, the first of duplicate keys.
    static func recordedResults(at url: URL) throws -> [EvalResult] {
        var seen = Set<String>()
        return try JSONLines.read(EvalResult.self, from: url).filter {
            seen.insert($0.key).inserted
        }
    }

    /// Rewrites the reports of `outputDirectory` from every result in its results.jsonl (the
    /// first of duplicate keys), in the suites' task order, then length and sample order.
    @discardableResult
    public static func report(outputDirectory: URL) throws -> EvalSummary {
        let url = outputDirectory.appendingPathComponent("results.jsonl")
        try JSONLines.refuseSymbolicLink(url)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EvalError.cannotRead(
                path: url.path, reason: "no results here; hint: evaluate into this --out first")
        }
        let taskOrder = Dictionary(
            EvalSuite.allCases.flatMap(\.tasks).enumerated().map { ($1.name, $0) },
            uniquingKeysWith: { first, _ in first })
        func rank(_ result: EvalResult) -> (Int, String, Int, Int) {
            (taskOrder[result.task] ?? Int.max, result.task, result.length, result.index)
        }
        let results = try recordedResults(at: url).sorted { rank($0) < rank($1) }
        let summary = EvalSummary(results: results)
        try EvalReport.write(summary: summary, results: results, to: outputDirectory)
        return summary
    }

    /// Generates and scores every job not yet in results.jsonl, then writes the reports.
    /// - Returns: the summary over all jobs (resumed and new).
    @discardableResult
    public func run(jobs: [EvalJob]) throws -> EvalSummary {
        try process(keys: jobs.map(\.key), count: jobs.count) {
            try generator.sample(jobs[$0], tokenizer: tokenizer)
        }
    }

    /// Scores every sample (from a task file) not yet in results.jsonl, then writes reports.
    @discardableResult
    public func run(samples: [EvalSample]) throws -> EvalSummary {
        try process(keys: samples.map(\.resultKey), count: samples.count) { samples[$0] }
    }

    /// Scores one sample.
    public func evaluate(_ sample: EvalSample) throws -> EvalResult {
        let start = Date()
        let prompt = sample.prompt(tokenizer: tokenizer)
        let output = try model.generate(prompt: prompt, maxTokens: sample.generationLimit)
        let prediction = tokenizer.decode(output.filter { !tokenizer.isSpecial($0) })
        let score = Scoring.score(prediction, for: sample)
        var diagnostics: [String: Double]?
        // Needle positions are byte offsets (a task file's too), token positions only for the
        // byte tokenizer: other tokenizers get no diagnostics.
        if collectDiagnostics, tokenizer is ByteTokenizer, !sample.needlePositions.isEmpty {
            diagnostics = try model.retrievalDiagnostics(
                prompt: prompt, needlePositions: sample.needlePositions,
                distractorPositions: sample.distractorPositions)
        }
        return EvalResult(
            suite: sample.suite, task: sample.task, length: sample.length, index: sample.index,
            depth: sample.depth, score: score, prediction: prediction, outputs: sample.outputs,
            promptTokens: prompt.count, seconds: Date().timeIntervalSince(start),
            needlePositions: sample.needlePositions, diagnostics: diagnostics)
    }

    private func process(
        keys: [String], count: Int, sample: (Int) throws -> EvalSample
    ) throws -> EvalSummary {
        // Held while scoring: a second evaluation into the same directory stops at once
        // instead of scoring every pending sample a second time.
        let lock = try DirectoryLock(directory: outputDirectory)
        defer { lock.release() }
        var done = try existingResults()
        let writer = try JSONLinesWriter(url: resultsURL, append: true)
        let pending = (0..<count).filter { done[keys[$0]] == nil }
        let bar = ProgressBar(total: pending.count, enabled: showProgress)
        let log = ProgressLog(label: "eval", total: pending.count, enabled: logsProgress)
        for (finished, position) in pending.enumerated() {
            let current = try sample(position)
            let result = try evaluate(current)
            try writer.write(result)
            done[result.key] = result
            let text =
                "\(current.task) \(ContextLength.format(current.length)) #\(current.index)"
            bar.update(completed: finished + 1, text: text)
            log.update(completed: finished + 1, text: text + " score \(result.score)")
        }
        bar.finish()
        let results = keys.compactMap { done[$0] }
        let summary = EvalSummary(results: results)
        try EvalReport.write(summary: summary, results: results, to: outputDirectory)
        return summary
    }
}
