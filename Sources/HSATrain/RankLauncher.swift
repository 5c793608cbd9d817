import Foundation
import HSACore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// One process per GPU: the launcher starts N copies of a command with HSA_RANK /
// HSA_WORLD_SIZE set, watches them, and when one fails (non-zero exit or a signal) stops the
// others at once and reports which rank failed and how, so a dead rank never leaves the rest
// hanging in a collective. It knows nothing about training: the tests run it on /bin/sh.

// MARK: - Environment

/// The environment variables through which the launcher tells a process its place.
public enum RankEnvironment {
    /// This process's rank, `0..<worldSize`.
    public static let rank = HSAEnvironment.rank.rawValue
    /// Number of ranks.
    public static let worldSize = HSAEnvironment.worldSize.rawValue
    /// The GPU this rank uses (the rank itself on one host).
    public static let deviceOrdinal = HSAEnvironment.deviceOrdinal.rawValue
    /// The file through which rank 0 hands the NCCL unique id to the others.
    public static let idFile = HSAEnvironment.ncclIDFile.rawValue
    /// The launcher's process id; a rank whose parent is no longer this stops.
    public static let launcherPID = HSAEnvironment.launcherPID.rawValue

    /// The (rank, worldSize) this process was started with, or nil outside a launcher.
    public static func current(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (rank: Int, worldSize: Int)? {
        guard let rankText = environment[rank], let rank = Int(rankText),
            let worldText = environment[worldSize], let world = Int(worldText),
            world > 0, (0..<world).contains(rank)
        else { return nil }
        return (rank, world)
    }
}

// MARK: - Launcher

/// Starts `worldSize` copies of one command and supervises them.
public struct RankLauncher: Sendable {
    /// The program every rank runs.
    public var executable: URL
    /// Its arguments (the same for every rank).
    public var arguments: [String]
    /// Number of processes.
    public var worldSize: Int
    /// Extra environment for every rank (on top of this process's environment).
    public var environment: [String: String]
    /// After a failure, how long the others get to exit after SIGTERM before SIGKILL.
    public var gracePeriod: TimeInterval = 3

    /// Describes the launch.
    public init(
        executable: URL, arguments: [String], worldSize: Int, environment: [String: String] = [:]
    ) {
        self.executable = executable
        self.arguments = arguments
        self.worldSize = worldSize
        self.environment = environment
    }

    /// How a rank ended.
    public struct Exit: Sendable, Equatable, CustomStringConvertible {
        /// The exit status, or the signal number when `signaled`.
        public var code: Int32
        /// True when the process was killed by signal `code`.
        public var signaled: Bool

        public var description: String {
            signaled
                ? "was killed by signal \(code) (\(Self.signalName(code)))"
                : "exited with status \(code)"
        }

        /// True for a clean exit (status 0).
        public var succeeded: Bool { !signaled && code == 0 }

        static func signalName(_ signal: Int32) -> String {
            switch signal {
            case SIGKILL: return "SIGKILL"
            case SIGTERM: return "SIGTERM"
            case SIGSEGV: return "SIGSEGV"
            case SIGABRT: return "SIGABRT"
            case SIGINT: return "SIGINT"
            case SIGBUS: return "SIGBUS"
            case SIGILL: return "SIGILL"
            case SIGTRAP: return "SIGTRAP"
            default: return "signal \(signal)"
            }
        }
    }

    /// Runs every rank to the end. Calls `onStart(rank, pid)` after each start.
    /// - Throws: `LaunchError.rankFailed` naming the first rank that failed, after the others
    ///   have been stopped; `LaunchError.cannotStart` when a process cannot be started.
    public func run(onStart: (Int, Int32) -> Void = { _, _ in }) throws {
        var processes: [Process] = []
        let base = ProcessInfo.processInfo.environment
        for rank in 0..<worldSize {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            var environment = base.merging(environment) { $1 }
            environment[RankEnvironment.rank] = String(rank)
            environment[RankEnvironment.worldSize] = String(worldSize)
            environment[RankEnvironment.deviceOrdinal] = String(rank)
            environment[RankEnvironment.launcherPID] = String(getpid())
            process.environment = environment
            do { try process.run() } catch {
                stop(processes)
                throw LaunchError.cannotStart(
                    rank: rank, executable: executable.path, reason: "\(error)")
            }
            processes.append(process)
            onStart(rank, process.processIdentifier)
        }
        // Poll: the first rank that fails stops everyone; success needs every rank's 0.
        while true {
            var running = false
            for (rank, process) in processes.enumerated() {
                if process.isRunning {
                    running = true
                    continue
                }
                let exit = Self.exit(of: process)
                if !exit.succeeded {
                    let detected = Date()
                    stop(processes)
                    throw LaunchError.rankFailed(
                        rank: rank, worldSize: worldSize, exit: exit,
                        stopSeconds: Date().timeIntervalSince(detected))
                }
            }
            if !running { return }
            usleep(50_000)
        }
    }

    static func exit(of process: Process) -> Exit {
        Exit(
            code: process.terminationStatus,
            signaled: process.terminationReason == .uncaughtSignal)
    }

    /// SIGTERM to every running process, SIGKILL to those still running after the grace period;
    /// returns when all have exited.
    private func stop(_ processes: [Process]) {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
        }
        let deadline = Date().addingTimeInterval(gracePeriod)
        while processes.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        for process in processes { process.waitUntilExit() }
    }
}

// MARK: - Errors

/// Why a multi-process launch failed.
public enum LaunchError: Error, CustomStringConvertible, Sendable {
    /// A rank ended badly; the others were stopped `stopSeconds` after it was noticed.
    case rankFailed(rank: Int, worldSize: Int, exit: RankLauncher.Exit, stopSeconds: Double)
    /// The process of `rank` could not be started.
    case cannotStart(rank: Int, executable: String, reason: String)
    /// A process started as `rank` of `worldSize` ranks by a run of another number of GPUs.
    case worldSizeMismatch(rank: Int, worldSize: Int, gpus: Int)

    public var description: String {
        switch self {
        case .rankFailed(let rank, let worldSize, let exit, let stopSeconds):
            return "rank \(rank) of \(worldSize) \(exit); stopped the other ranks in "
                + String(format: "%.1f", stopSeconds)
                + " s; hint: continue from the last checkpoint with --resume "
                + "(on any number of GPUs)"
        case .cannotStart(let rank, let executable, let reason):
            return "could not start rank \(rank) (\(executable)): \(reason)"
        case .worldSizeMismatch(let rank, let worldSize, let gpus):
            return "rank \(rank): launched as one of \(worldSize) ranks but --gpus is \(gpus)"
        }
    }
}
