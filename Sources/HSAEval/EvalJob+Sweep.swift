import Foundation

extension EvalJob {
    /// The sweep `hsa eval` runs, from its option texts: the tasks of `suite` that `tasks`
    /// names (comma-separated, or `all`), each `lengths` (`ContextLength.parseList`), `samples`
    /// samples each, NIAH depths from `depths` (comma-separated percents).
    /// - Throws: ``EvalError/unknownSuite(_:)``, ``EvalError/invalidDepth(_:)``,
    ///   ``EvalError/unknownTask(name:suite:known:)``, ``EvalError/invalidLength(_:)``, the
    ///   first found in this order.
    public static func sweep(
        suite: String, tasks: String, lengths: String, depths: String, samples: Int, seed: UInt64
    ) throws -> [EvalJob] {
        guard let evalSuite = EvalSuite(rawValue: suite) else {
            throw EvalError.unknownSuite(suite)
        }
        let depthList = try depths.split(separator: ",").map { part -> Double in
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)),
                (0...100).contains(value)
            else { throw EvalError.invalidDepth(String(part)) }
            return value
        }
        return sweep(
            tasks: try evalSuite.tasks(named: tasks), lengths: try ContextLength.parseList(lengths),
            samples: samples, seed: seed, depths: depthList)
    }
}
