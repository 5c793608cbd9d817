import Foundation
import HSACUDA
import HSACore

/// `hsa train --gpus N`, the rank half: a `GradientReducer` over an NCCL communicator (one rank
/// per process and GPU).
public final class NCCLGradientReducer: GradientReducer {
    public let communicator: NCCLCommunicator
    public var rank: Int { communicator.rank }
    public var worldSize: Int { communicator.worldSize }

    public init(communicator: NCCLCommunicator) { self.communicator = communicator }

    /// The reducer of a rank at `place` (rank, worldSize), joined as `join(rank:worldSize:)`
    /// does; nil alone (`place` nil) or as the only rank: there is nothing to reduce.
    public static func join(place: (rank: Int, worldSize: Int)?) throws -> NCCLGradientReducer? {
        guard let place, place.worldSize > 1 else { return nil }
        return try join(rank: place.rank, worldSize: place.worldSize)
    }

    /// Joins the communicator of this launched rank: rank 0 creates the NCCL unique id and
    /// publishes it in `HSA_NCCL_ID_FILE`, the others wait for it.
    /// - Parameters:
    ///   - rank: this rank (`HSA_RANK`).
    ///   - worldSize: number of ranks (`HSA_WORLD_SIZE`).
    /// - Throws: `DistributedTrainingError` without a CUDA backend or id file; `NCCLError` from
    ///   NCCL.
    public static func join(rank: Int, worldSize: Int) throws -> NCCLGradientReducer {
        guard let backend = ComputeBackends.current as? CUDAManagedBackend else {
            throw DistributedTrainingError.needsCUDABackend
        }
        let environment = ProcessInfo.processInfo.environment
        guard let idPath = environment[RankEnvironment.idFile] else {
            throw DistributedTrainingError.notLaunched(rank: rank)
        }
        let timeout = environment[HSAEnvironment.ncclTimeout.rawValue].flatMap { Double($0) } ?? 300
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

    public func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        try communicator.allReduceSum(values, count: count)
    }

    public func waitForReductions() throws { try communicator.waitForReductions() }

    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        try communicator.allReduceSum(values)
    }
}
