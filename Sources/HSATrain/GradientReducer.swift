import Foundation

// The communication seam of data-parallel training. The trainer only needs "sum this buffer
// over all ranks" and "sum these few numbers over all ranks"; NCCL (HSACUDA, one process per
// GPU) and the in-process thread group of the tests both provide it, so the training logic is
// the same code on a laptop CPU and on eight GPUs.

// MARK: - GradientReducer

/// One rank's view of a data-parallel group: sums over all `worldSize` ranks.
///
/// Every rank must make the same calls in the same order (they are collectives). Results are
/// identical bits on every rank, so the ranks' parameters never drift apart.
public protocol GradientReducer: AnyObject {
    /// This process's (or thread's) index, `0..<worldSize`. Rank 0 writes logs and checkpoints.
    var rank: Int { get }
    /// Number of ranks in the group.
    var worldSize: Int { get }

    /// Starts summing `count` Floats at `values` over all ranks, in place. May return before the
    /// sum is done (a GPU queues it after the work queued so far); `waitForReductions` waits for
    /// it. The trainer calls it during the backward pass (`OverlappedGradientReduction`), as
    /// soon as the work already queued finishes `values`; nothing writes them until the wait.
    /// - Parameters:
    ///   - values: (count) this rank's contribution; the sum afterwards. On a GPU backend it is
    ///     a device (managed) address.
    ///   - count: number of Floats; the same on every rank.
    func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws

    /// Waits until every reduction started with `allReduceSum` is done.
    /// - Throws: `DistributedTrainingError` when a peer failed or the wait timed out.
    func waitForReductions() throws

    /// Sums a few host numbers (losses, checksums) over all ranks and returns the sums.
    /// - Parameter values: (k) this rank's numbers; `k` is the same on every rank.
    /// - Returns: (k) the sums, identical on every rank.
    func allReduceSum(_ values: [Double]) throws -> [Double]
}

extension GradientReducer {
    /// Sums `count` Floats at `values` over all ranks in buckets of at most `bucketElements`,
    /// then waits. Buckets bound the size of one collective (NCCL's sweet spot is tens of MB)
    /// and are the unit `OverlappedGradientReduction` starts early, during the backward pass.
    /// - Parameters:
    ///   - values: (count) this rank's contribution; the sum afterwards.
    ///   - bucketElements: largest bucket in Floats (default 25 MB).
    public func allReduceSumInBuckets(
        _ values: UnsafeMutablePointer<Float>, count: Int,
        bucketElements: Int = GradientBuckets.defaultElements
    ) throws {
        for range in GradientBuckets.ranges(count: count, bucketElements: bucketElements) {
            try allReduceSum(values + range.lowerBound, count: range.count)
        }
        try waitForReductions()
    }

    /// Blocks until every rank has called it (an all-reduce of one number).
    public func barrier() throws { _ = try allReduceSum([0]) }
}

// MARK: - Buckets

/// The split of a flat gradient arena into all-reduce buckets.
public enum GradientBuckets {
    /// 25 MB of Floats, the bucket size PyTorch DDP also defaults to.
    public static let defaultElements = 25 * 1_000_000 / 4

    /// Consecutive ranges covering `0..<count`, each at most `bucketElements` long.
    public static func ranges(count: Int, bucketElements: Int) -> [Range<Int>] {
        let size = max(1, bucketElements)
        return stride(from: 0, to: count, by: size).map { $0..<min(count, $0 + size) }
    }
}

// MARK: - Errors

/// What can go wrong in data-parallel training; messages name the rank and end with a hint.
public enum DistributedTrainingError: Error, CustomStringConvertible, Sendable {
    /// The global batch does not split evenly over the ranks.
    case batchNotDivisible(batchSize: Int, worldSize: Int)
    /// The ranks started from different parameters (different seeds or checkpoints).
    case parametersDiffer(rank: Int, checksums: [Double])
    /// A collective did not finish in time (a peer died or hangs).
    case timeout(rank: Int, operation: String, seconds: Double)
    /// The communication library reported an error (a peer failed, or a local failure).
    case communication(rank: Int, message: String)
    /// The launcher that started this rank is gone.
    case launcherGone(rank: Int)
    /// Multi-GPU training was asked for without the CUDA backend.
    case needsCUDABackend
    /// A rank runs without the environment of `hsa train --gpus N` (no NCCL id file).
    case notLaunched(rank: Int)

    public var description: String {
        switch self {
        case .batchNotDivisible(let batchSize, let worldSize):
            return "data parallel: the global batch size \(batchSize) is not a multiple of the "
                + "\(worldSize) ranks; hint: pick --batch-size as a multiple of --gpus"
        case .parametersDiffer(let rank, let checksums):
            return "data parallel: rank \(rank) sees different parameter checksums per rank "
                + "\(checksums); hint: every rank must build the model with the same seed and "
                + "resume from the same checkpoint"
        case .timeout(let rank, let operation, let seconds):
            return "rank \(rank): \(operation) did not finish within "
                + String(format: "%.0f", seconds)
                + " s; a peer rank probably died or hangs; hint: resume from the last "
                + "checkpoint with --resume (HSA_NCCL_TIMEOUT sets the limit in seconds)"
        case .communication(let rank, let message):
            return "rank \(rank): \(message); hint: resume from the last checkpoint with --resume"
        case .launcherGone(let rank):
            return "rank \(rank): the launcher process is gone, stopping; hint: resume from the "
                + "last checkpoint with --resume"
        case .needsCUDABackend:
            return "--gpus needs --backend cuda (or auto on a machine with CUDA)"
        case .notLaunched(let rank):
            return "rank \(rank): \(RankEnvironment.idFile) is not set; hint: start ranks with "
                + "`hsa train --gpus N`"
        }
    }
}
