import Foundation

extension RankEnvironment {
    /// This process's (rank, worldSize) in a run on `gpus` GPUs, or nil when no launcher
    /// started it (it trains alone, or launches the ranks).
    /// - Throws: ``LaunchError/worldSizeMismatch(rank:worldSize:gpus:)`` when it was launched
    ///   as one of another number of ranks.
    public static func place(
        forGPUs gpus: Int, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (rank: Int, worldSize: Int)? {
        guard let place = current(environment) else { return nil }
        guard place.worldSize == gpus else {
            throw LaunchError.worldSizeMismatch(
                rank: place.rank, worldSize: place.worldSize, gpus: gpus)
        }
        return place
    }

    /// The message of `error` as rank `rank` reports it: prefixed with `rank N: ` unless it
    /// already names the rank, so the ranks' errors can be told apart in one output.
    public static func message(for error: any Error, rank: Int) -> String {
        let text = "\(error)"
        let prefix = "rank \(rank)"
        return text.hasPrefix(prefix) ? text : "\(prefix): \(text)"
    }
}
