import Foundation
import HSACUDA
import HSACore

/// What every benchmark record names about where it ran.
enum BenchmarkHost {
    /// The implementation that ran ("swift-cpu", "swift-cuda"), from the installed backend.
    static var implementation: String {
        ComputeBackends.current is CUDAManagedBackend ? "swift-cuda" : "swift-cpu"
    }

    /// CPU model and core count.
    static var machine: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map {
                String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(
                    in: .whitespaces)
            }
            ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    /// Writes a benchmark `record` to `url` atomically as indented, key-sorted JSON and returns
    /// the bytes written.
    static func writeRecord(_ record: [String: Any], to url: URL) throws -> Data {
        let data = try JSONSerialization.data(
            withJSONObject: record, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: url)
        return data
    }
}
