import Foundation

/// One scored sample: a line of results.jsonl.
public struct EvalResult: Codable, Sendable, Equatable {
    /// Suite name.
    public var suite: String
    /// Task name.
    public var task: String
    /// Target length in tokens.
    public var length: Int
    /// Sample index.
    public var index: Int
    /// Needle depth in percent, when controlled.
    public var depth: Double?
    /// Score in 0...1.
    public var score: Double
    /// The decoded model output.
    public var prediction: String
    /// The references.
    public var outputs: [String]
    /// Prompt tokens (BOS included).
    public var promptTokens: Int
    /// Wall time of generation and scoring, in seconds.
    public var seconds: Double
    /// Needle positions in prompt tokens.
    public var needlePositions: [Int]
    /// Retrieval diagnostics, when the model reports them.
    public var diagnostics: [String: Double]?

    /// Creates a result.
    public init(
        suite: String, task: String, length: Int, index: Int, depth: Double?, score: Double,
        prediction: String, outputs: [String], promptTokens: Int, seconds: Double,
        needlePositions: [Int], diagnostics: [String: Double]?
    ) {
        self.suite = suite
        self.task = task
        self.length = length
        self.index = index
        self.depth = depth
        self.score = score
        self.prediction = prediction
        self.outputs = outputs
        self.promptTokens = promptTokens
        self.seconds = seconds
        self.needlePositions = needlePositions
        self.diagnostics = diagnostics
    }

    enum CodingKeys: String, CodingKey {
        case suite, task, length, index, depth, score, prediction, outputs, seconds, diagnostics
        case promptTokens = "prompt_tokens"
        case needlePositions = "needle_positions"
    }

    /// Same key as ``EvalSample/resultKey``.
    public var key: String { "\(task)|\(length)|\(index)" }
}

/// One unit of work of a sweep: which sample to generate and score.
public struct EvalJob: Sendable, Equatable {
    /// The task.
    public var task: EvalTask
    /// Target length in tokens.
    public var length: Int
    /// Sample index.
    public var index: Int
    /// Base seed.
    public var seed: UInt64
    /// Controlled needle depth in percent (NIAH tasks), or nil.
    public var depth: Double?

    /// Same key as ``EvalSample/resultKey``.
    public var key: String { "\(task.name)|\(length)|\(index)" }

    /// Every (task, length, index) of a sweep, lengths outermost so short lengths finish first.
    /// NIAH sample `i` gets depth `depths[i % depths.count]` (none when `depths` is empty).
    public static func sweep(
        tasks: [EvalTask], lengths: [Int], samples: Int, seed: UInt64, depths: [Double]
    ) -> [EvalJob] {
        var jobs: [EvalJob] = []
        for length in lengths {
            for task in tasks {
                for index in 0..<samples {
                    let depth =
                        task.isNeedleTask && !depths.isEmpty ? depths[index % depths.count] : nil
                    jobs.append(
                        EvalJob(task: task, length: length, index: index, seed: seed, depth: depth))
                }
            }
        }
        return jobs
    }
}
