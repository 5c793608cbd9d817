import Foundation
import HSA

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// `hsa train --gpus N`: the launcher half (re-run this binary once per GPU under a
// `RankLauncher`) and the rank half (join the NCCL communicator and hand the trainer a
// `GradientReducer` over it).

// MARK: - Launcher

enum MultiGPULaunch {
    /// Re-runs this command line once per GPU with the rank environment and supervises it.
    /// - Throws: `UserError` naming the failed rank and how it ended (the others are stopped).
    static func launch(gpus: Int) throws {
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
        if inherited["HSA_NUM_THREADS"] == nil { environment["HSA_NUM_THREADS"] = share }
        if inherited["OPENBLAS_NUM_THREADS"] == nil { environment["OPENBLAS_NUM_THREADS"] = share }
        let launcher = RankLauncher(
            executable: executable, arguments: Array(CommandLine.arguments.dropFirst()),
            worldSize: gpus, environment: environment)
        Terminal.printLine("launching \(gpus) ranks (one per GPU, NCCL)")
        do {
            try launcher.run { rank, pid in
                Terminal.printLine("rank \(rank): pid \(pid), GPU \(rank)")
            }
        } catch let error as LaunchError {
            throw UserError("\(error)")
        }
    }
}

// MARK: - Rank

/// A `GradientReducer` over an NCCL communicator (one rank per process and GPU).
final class NCCLGradientReducer: GradientReducer {
    let communicator: NCCLCommunicator
    var rank: Int { communicator.rank }
    var worldSize: Int { communicator.worldSize }

    init(communicator: NCCLCommunicator) { self.communicator = communicator }

    /// Joins the communicator of this launched rank: rank 0 creates the NCCL unique id and
    /// publishes it in `HSA_NCCL_ID_FILE`, the others wait for it.
    /// - Parameters:
    ///   - rank: this rank (`HSA_RANK`).
    ///   - worldSize: number of ranks (`HSA_WORLD_SIZE`).
    /// - Throws: `UserError` without a CUDA backend or id file; `NCCLError` from NCCL.
    static func join(rank: Int, worldSize: Int) throws -> NCCLGradientReducer {
        guard let backend = ComputeBackends.current as? CUDAManagedBackend else {
            throw UserError("--gpus needs --backend cuda (or auto on a machine with CUDA)")
        }
        let environment = ProcessInfo.processInfo.environment
        guard let idPath = environment[RankEnvironment.idFile] else {
            throw UserError(
                "rank \(rank): \(RankEnvironment.idFile) is not set; hint: start ranks with "
                    + "`hsa train --gpus N`")
        }
        let timeout = environment["HSA_NCCL_TIMEOUT"].flatMap { Double($0) } ?? 300
        let launcherPID = environment[RankEnvironment.launcherPID].flatMap { Int32($0) }
        let idFile = URL(fileURLWithPath: idPath)
        let nccl = try NCCL.library()
        let id: NCCLUniqueID
        if rank == 0 {
            id = try NCCLUniqueID.generate(nccl)
            try id.write(to: idFile)
        } else {
            id = try NCCLUniqueID.wait(for: idFile, timeout: timeout, launcherPID: launcherPID)
        }
        let communicator = try NCCLCommunicator(
            backend: backend, rank: rank, worldSize: worldSize, uniqueID: id, timeout: timeout,
            launcherPID: launcherPID)
        return NCCLGradientReducer(communicator: communicator)
    }

    func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        try communicator.allReduceSum(values, count: count)
    }

    func waitForReductions() throws { try communicator.waitForReductions() }

    func allReduceSum(_ values: [Double]) throws -> [Double] {
        try communicator.allReduceSum(values)
    }
}

// MARK: - Fault injection

/// `HSA_TEST_KILL_RANK=r HSA_TEST_KILL_STEP=s`: rank r kills itself with SIGKILL after step s
/// (tests and dev/multi-gpu/check.sh use it to show how the other ranks stop).
enum FaultInjection {
    static func afterStep(_ step: Int, rank: Int) {
        let environment = ProcessInfo.processInfo.environment
        guard let killRank = environment["HSA_TEST_KILL_RANK"].flatMap({ Int($0) }),
            let killStep = environment["HSA_TEST_KILL_STEP"].flatMap({ Int($0) }),
            killRank == rank, killStep == step
        else { return }
        Terminal.printError("rank \(rank): HSA_TEST_KILL_STEP=\(step) reached, killing myself")
        kill(getpid(), SIGKILL)
    }
}
