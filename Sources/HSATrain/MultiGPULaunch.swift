import Foundation
import HSACore
import HSAReport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `hsa train --gpus N`, the launcher half: this process's own command line re-run once per GPU
/// under a `RankLauncher` (each copy finds its rank in the environment and trains as that rank).
public enum MultiGPULaunch {
    /// Re-runs this command line once per GPU with the rank environment and supervises it.
    /// - Throws: `LaunchError` naming the failed rank and how it ended (the others are stopped).
    public static func launch(gpus: Int) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-ranks-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var environment = [
            RankEnvironment.idFile: directory.appendingPathComponent("nccl-id").path
        ]
        // The ranks share the host's cores: split them unless the user chose.
        let inherited = ProcessInfo.processInfo.environment
        let share = String(max(1, ProcessInfo.processInfo.activeProcessorCount / gpus))
        let threads = HSAEnvironment.numThreads.rawValue
        if inherited[threads] == nil { environment[threads] = share }
        if inherited["OPENBLAS_NUM_THREADS"] == nil { environment["OPENBLAS_NUM_THREADS"] = share }
        let launcher = RankLauncher(
            executable: executable, arguments: Array(CommandLine.arguments.dropFirst()),
            worldSize: gpus, environment: environment)
        Terminal.printLine("launching \(gpus) ranks (one per GPU, NCCL)")
        try launcher.run { rank, pid in
            Terminal.printLine("rank \(rank): pid \(pid), GPU \(rank)")
        }
    }
}
