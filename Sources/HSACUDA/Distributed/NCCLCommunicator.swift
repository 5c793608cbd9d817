import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// One rank's NCCL communicator beside the managed backend's stream. All-reduces are queued on
// a collective stream that first waits (device-side, through an event) for the kernels queued
// on the model's stream so far: a gradient bucket can start in the middle of the backward pass
// and run while the next layers compute (`CollectiveStream`). Waiting is a poll loop over both
// streams, not a blocking synchronize: it checks ncclCommGetAsyncError, a timeout and whether
// the launcher is still alive, and aborts the communicator (which stops NCCL's spinning
// kernels) before throwing, so a dead peer never leaves this rank hanging.

// MARK: - Communicator

/// An NCCL communicator of `worldSize` ranks, one per process and GPU.
public final class NCCLCommunicator: @unchecked Sendable {
    /// This rank, `0..<worldSize`.
    public let rank: Int
    /// Number of ranks.
    public let worldSize: Int
    /// Seconds a collective (or the initialisation) may take before the rank gives up.
    public let timeout: TimeInterval
    let nccl: NCCLLibrary
    let device: CUDADevice
    /// The collectives' stream, ordered after the model's stream at each enqueue.
    let streams: CollectiveStream
    private var comm: NCCLComm?
    private let launcherPID: Int32?
    /// Device memory for `allReduceSum([Double])` (grown on demand).
    private var scratch: CUdeviceptr = 0
    private var scratchBytes = 0

    /// Joins the communicator described by `uniqueID` (blocks until every rank joined).
    /// - Parameters:
    ///   - backend: the managed backend whose device and stream the collectives use.
    ///   - rank: this rank.
    ///   - worldSize: number of ranks.
    ///   - uniqueID: rank 0's `NCCLUniqueID.generate`, the same on every rank.
    ///   - timeout: seconds for the initialisation and for each collective.
    ///   - launcherPID: stop when the parent process is no longer this one (nil: don't check).
    ///   - separateStream: run collectives on their own stream, concurrently with the model's
    ///     kernels (default); false queues them on the model's stream.
    /// - Throws: `NCCLError` when NCCL fails, the timeout passes or the launcher is gone.
    public init(
        backend: CUDAManagedBackend, rank: Int, worldSize: Int, uniqueID: NCCLUniqueID,
        timeout: TimeInterval, launcherPID: Int32?, separateStream: Bool = true
    ) throws {
        let nccl = try NCCL.library()
        self.nccl = nccl
        self.rank = rank
        self.worldSize = worldSize
        self.timeout = timeout
        self.launcherPID = launcherPID
        device = backend.device
        streams = try CollectiveStream(
            device: backend.device, compute: backend.gpu.stream, separate: separateStream)
        comm = try Self.initialize(
            nccl: nccl, device: device, rank: rank, worldSize: worldSize, uniqueID: uniqueID,
            timeout: timeout, launcherPID: launcherPID)
    }

    /// Runs the blocking `ncclCommInitRank` on a helper thread, so this thread can give up
    /// after `timeout` (a rank that never joins) instead of hanging forever.
    private static func initialize(
        nccl: NCCLLibrary, device: CUDADevice, rank: Int, worldSize: Int,
        uniqueID: NCCLUniqueID, timeout: TimeInterval, launcherPID: Int32?
    ) throws -> NCCLComm? {
        let outcome = InitOutcome()
        let api = nccl.api
        let id = UncheckedBox(uniqueID.byValue)
        let thread = Thread {
            do { try device.makeCurrent() } catch {
                outcome.finish(result: -1, comm: nil, message: "\(error)")
                return
            }
            var comm: NCCLComm?
            let result = api.ncclCommInitRank(&comm, Int32(worldSize), id.value, Int32(rank))
            let message = result == 0 ? "" : api.message(result, "ncclCommInitRank", comm: comm)
            outcome.finish(result: result, comm: UncheckedBox(comm), message: message)
        }
        thread.start()
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let (result, comm, message) = outcome.value {
                guard result == 0 else { throw NCCLError.call("rank \(rank): \(message)") }
                return comm?.value
            }
            if let launcherPID, getppid() != launcherPID {
                throw NCCLError.launcherGone(rank: rank)
            }
            if Date() > deadline {
                throw NCCLError.timeout(
                    rank: rank, operation: "initialisation (ncclCommInitRank)", seconds: timeout)
            }
            usleep(10_000)
        }
    }

    /// NCCL's version, e.g. "2.21.5".
    public var version: String { nccl.version }

    /// True when collectives run on their own stream, overlapping the model's kernels (false on
    /// devices without concurrent managed access, or when turned off at init).
    public var overlapsCompute: Bool { streams.isSeparate }

    // MARK: - Collectives

    /// Queues an in-place sum of `count` Floats at `values` (a managed or device address) over
    /// all ranks, after everything queued on the backend's stream so far (the kernels that
    /// wrote `values`); returns without waiting. The backend's later kernels run concurrently
    /// and must not touch `values` before `waitForReductions`.
    public func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        try enqueueAllReduce(
            UnsafeMutableRawPointer(values), count: count, type: .float32, afterCompute: true)
    }

    /// Waits for everything queued on both streams (the all-reduces included), watching for
    /// peer failures, the timeout and the launcher.
    public func waitForReductions() throws {
        try wait(for: "all-reduce")
    }

    /// Sums a few host Doubles over all ranks (through a small device buffer).
    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        if values.isEmpty { return [] }
        let bytes = values.count * 8
        try device.makeCurrent()
        let driver = device.driver
        if bytes > scratchBytes {
            if scratch != 0 { _ = driver.cuMemFree(scratch) }
            scratch = 0
            try driver.check(driver.cuMemAlloc(&scratch, max(bytes, 256)), "cuMemAlloc_v2")
            scratchBytes = max(bytes, 256)
        }
        // Synchronous copies run on the legacy stream, which orders with our blocking streams.
        try values.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            try driver.check(driver.cuMemcpyHtoD(scratch, base, bytes), "cuMemcpyHtoD_v2")
        }
        guard let address = UnsafeMutableRawPointer(bitPattern: UInt(scratch)) else {
            throw NCCLError.call("NCCL: null scratch buffer")
        }
        // Host values: no need to wait for the model's kernels.
        try enqueueAllReduce(address, count: values.count, type: .float64, afterCompute: false)
        try wait(for: "all-reduce of \(values.count) numbers")
        var sums = [Double](repeating: 0, count: values.count)
        try sums.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            try driver.check(driver.cuMemcpyDtoH(base, scratch, bytes), "cuMemcpyDtoH_v2")
        }
        return sums
    }

    /// Stops NCCL's kernels and proxy threads; the communicator is unusable afterwards. Safe to
    /// call more than once.
    public func abort() {
        guard let comm else { return }
        _ = nccl.api.ncclCommAbort(comm)
        self.comm = nil
    }

    /// Queues an all-reduce on the collective stream (every collective goes there, so NCCL sees
    /// them on one stream in issue order, the same on every rank).
    private func enqueueAllReduce(
        _ values: UnsafeMutableRawPointer, count: Int, type: NCCLAPI.DataType, afterCompute: Bool
    ) throws {
        guard let comm else {
            throw NCCLError.call("rank \(rank): NCCL communicator already aborted")
        }
        if count == 0 { return }
        try device.makeCurrent()
        let stream = afterCompute ? try streams.orderedAfterCompute() : streams.collectives
        let result = nccl.api.ncclAllReduce(
            UnsafeRawPointer(values), values, count, type.rawValue, NCCLAPI.sum, comm, stream)
        guard result == 0 else {
            let message = nccl.api.message(result, "ncclAllReduce", comm: comm)
            abort()
            throw NCCLError.asyncError(rank: rank, message: message)
        }
    }

    /// Polls both streams until they are idle; aborts and throws on an NCCL error, the timeout
    /// or a vanished launcher. The first polls come every 50 µs (a step's tail is short), then
    /// back off to 2 ms.
    private func wait(for operation: String) throws {
        let start = Date()
        var pause: UInt32 = 50
        while true {
            let status = streams.status()
            if status == 0 { return }
            if status != CollectiveStream.notReady {
                abort()
                try device.driver.check(status, "cuStreamQuery")
            }
            if let comm {
                var asyncError: NCCLResult = 0
                _ = nccl.api.ncclCommGetAsyncError(comm, &asyncError)
                if asyncError != 0 && asyncError != 7 {
                    let message = nccl.api.message(asyncError, operation, comm: comm)
                    abort()
                    throw NCCLError.asyncError(rank: rank, message: message)
                }
            }
            if Date().timeIntervalSince(start) > timeout {
                abort()
                throw NCCLError.timeout(rank: rank, operation: operation, seconds: timeout)
            }
            if let launcherPID, getppid() != launcherPID {
                abort()
                throw NCCLError.launcherGone(rank: rank)
            }
            usleep(pause)
            pause = min(pause * 2, 2000)
        }
    }
}

// MARK: - Helpers

/// Carries a non-Sendable value into the init thread (it is read once, before the wait ends).
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The result of the init thread, read by the waiting thread.
private final class InitOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (NCCLResult, UncheckedBox<NCCLComm?>?, String)?

    func finish(result: NCCLResult, comm: UncheckedBox<NCCLComm?>?, message: String) {
        lock.withLock { stored = (result, comm, message) }
    }

    var value: (NCCLResult, UncheckedBox<NCCLComm?>?, String)? { lock.withLock { stored } }
}
