import Foundation

/// Mean scores by task and length (and by depth for NIAH), over a set of results.
public struct EvalSummary: Codable, Sendable, Equatable {
    /// Mean score of one (task, length).
    public struct Cell: Codable, Sendable, Equatable {
        public var task: String
        public var length: Int
        public var samples: Int
        /// Mean score in 0...1.
        public var score: Double
        /// Mean of each retrieval diagnostic over the cell's samples that report it (nil when
        /// none does).
        public var diagnostics: [String: Double]?
        /// The 95% interval of `score`, written for readers of summary.json (nil in summaries
        /// written before it existed; reports derive it from `score` and `samples`).
        public var interval: ScoreInterval?
    }

    /// Mean score of one (task, length, depth) for samples with a controlled depth.
    public struct DepthCell: Codable, Sendable, Equatable {
        public var task: String
        public var length: Int
        /// Depth in percent.
        public var depth: Double
        public var samples: Int
        public var score: Double
    }

    /// Tasks in first-seen order.
    public var tasks: [String]
    /// Lengths, ascending.
    public var lengths: [Int]
    /// One cell per (task, length) with results.
    public var cells: [Cell]
    /// One cell per (task, length, depth) with results.
    public var depthCells: [DepthCell]
    /// Mean score of all samples.
    public var overall: Double
    /// Number of samples.
    public var samples: Int
    /// Mean of each diagnostic over the samples that report it.
    public var diagnostics: [String: Double]

    enum CodingKeys: String, CodingKey {
        case tasks, lengths, cells, overall, samples, diagnostics
        case depthCells = "depth_cells"
    }

    /// Summarises `results`.
    public init(results: [EvalResult]) {
        var taskOrder: [String] = []
        for result in results where !taskOrder.contains(result.task) {
            taskOrder.append(result.task)
        }
        tasks = taskOrder
        lengths = Array(Set(results.map(\.length))).sorted()
        func mean(_ values: [Double]) -> Double {
            values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }
        var cells: [Cell] = []
        var depthCells: [DepthCell] = []
        for task in taskOrder {
            for length in lengths {
                let group = results.filter { $0.task == task && $0.length == length }
                guard !group.isEmpty else { continue }
                let score = mean(group.map(\.score))
                cells.append(
                    Cell(
                        task: task, length: length, samples: group.count, score: score,
                        diagnostics: Self.meanDiagnostics(group),
                        interval: ScoreInterval(score: score, samples: group.count)))
                let depths = Array(Set(group.compactMap(\.depth))).sorted()
                for depth in depths {
                    let scores = group.filter { $0.depth == depth }.map(\.score)
                    depthCells.append(
                        DepthCell(
                            task: task, length: length, depth: depth,
                            samples: scores.count, score: mean(scores)))
                }
            }
        }
        self.cells = cells
        self.depthCells = depthCells
        overall = mean(results.map(\.score))
        samples = results.count
        diagnostics = Self.meanDiagnostics(results) ?? [:]
    }

    /// Mean of each diagnostic over the results that report it; nil when none does.
    static func meanDiagnostics(_ results: [EvalResult]) -> [String: Double]? {
        var sums: [String: (Double, Int)] = [:]
        for result in results {
            for (name, value) in result.diagnostics ?? [:] {
                let old = sums[name] ?? (0, 0)
                sums[name] = (old.0 + value, old.1 + 1)
            }
        }
        return sums.isEmpty ? nil : sums.mapValues { $0.0 / Double($0.1) }
    }

    /// Names of the per-layer diagnostics present ("layer0.recall", ...), in layer order.
    public var layerDiagnosticNames: [String] {
        let names = Set(cells.flatMap { ($0.diagnostics ?? [:]).keys })
        return names.filter { $0.hasPrefix("layer") }.sorted { lhs, rhs in
            let key = { (name: String) -> (Int, String) in
                let parts = name.dropFirst("layer".count).split(separator: ".")
                return (Int(parts.first ?? "") ?? 0, String(parts.last ?? ""))
            }
            return key(lhs) < key(rhs)
        }
    }

    /// The mean score of `task` at `length`, if evaluated.
    public func score(task: String, length: Int) -> Double? {
        cells.first { $0.task == task && $0.length == length }?.score
    }
}
