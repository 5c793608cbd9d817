import Foundation

// Where one rank's NCCL collectives run. The trainer starts a gradient bucket's all-reduce in
// the middle of the backward pass, as soon as the kernels that write the bucket are queued. On
// the model's own stream the all-reduce would wait for those kernels, but every later
// backward kernel would also wait for the all-reduce: nothing would overlap. So collectives
// get a second stream: each all-reduce first records an event on the compute stream and makes
// the collective stream wait for it (the bucket's kernels are done before NCCL reads it),
// while the compute stream runs on with the next layers. The host waits for both streams
// before the optimizer touches the gradients.
//
// Both streams are blocking streams (flags 0), so the synchronous copies of the legacy stream
// still order with all of it. Devices without concurrent managed access (the host may not
// touch managed memory while any kernel runs) keep the collectives on the compute stream.

// MARK: - Collective stream

/// The stream a communicator queues its collectives on, ordered after the compute stream's
/// work at each enqueue.
final class CollectiveStream: @unchecked Sendable {
    typealias StreamQuery = @convention(c) (CUhandle?) -> CUresult
    typealias StreamWaitEvent = @convention(c) (CUhandle?, CUhandle?, UInt32) -> CUresult

    let device: CUDADevice
    /// The managed backend's stream: the model's kernels.
    let compute: CUhandle?
    /// The collectives' own stream, or `compute` (see `isSeparate`).
    let collectives: CUhandle?
    /// Recorded on `compute` before each collective that reads what the compute stream wrote.
    private let computeDone: CUhandle?
    private let streamWaitEvent: StreamWaitEvent?
    private let streamDestroy: StreamQuery?
    private let streamQuery: StreamQuery

    /// True when collectives run on their own stream, concurrently with the model's kernels.
    var isSeparate: Bool { collectives != compute }

    /// CUDA_ERROR_NOT_READY: `cuStreamQuery` of a stream with pending work.
    static let notReady: CUresult = 600
    /// CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS.
    private static let concurrentManagedAccess: Int32 = 89
    /// CU_EVENT_DISABLE_TIMING: the cheapest event, for ordering only.
    private static let disableTiming: UInt32 = 2

    /// Creates the collective stream for `compute` on `device`.
    /// - Parameter separate: false keeps the collectives on `compute` (no overlap).
    /// - Throws: `CUDAError` when a driver call fails or `cuStreamQuery` is missing.
    init(device: CUDADevice, compute: CUDAStream, separate: Bool = true) throws {
        let library = device.libraries.driverLibrary
        guard let query = library.symbol("cuStreamQuery") else {
            throw CUDAError.missingSymbols(library: library.path, symbols: ["cuStreamQuery"])
        }
        self.device = device
        self.compute = compute.handle
        streamQuery = unsafeBitCast(query, to: StreamQuery.self)
        let waitEvent = library.symbol("cuStreamWaitEvent").map {
            unsafeBitCast($0, to: StreamWaitEvent.self)
        }
        let destroy = library.symbol("cuStreamDestroy_v2").map {
            unsafeBitCast($0, to: StreamQuery.self)
        }
        guard separate, let waitEvent, try Self.sharesManagedMemory(device) else {
            collectives = compute.handle
            computeDone = nil
            streamWaitEvent = nil
            streamDestroy = nil
            return
        }
        let driver = device.driver
        try device.makeCurrent()
        var stream: CUhandle? = nil
        try driver.check(driver.cuStreamCreate(&stream, 0), "cuStreamCreate")
        var event: CUhandle? = nil
        try driver.check(driver.cuEventCreate(&event, Self.disableTiming), "cuEventCreate")
        collectives = stream
        computeDone = event
        streamWaitEvent = waitEvent
        streamDestroy = destroy
    }

    deinit {
        guard isSeparate else { return }
        _ = device.driver.cuEventDestroy(computeDone)
        _ = streamDestroy?(collectives)
    }

    /// Whether the host and several streams may use managed memory at the same time.
    private static func sharesManagedMemory(_ device: CUDADevice) throws -> Bool {
        let driver = device.driver
        var handle: CUdevice = 0
        try driver.check(driver.cuDeviceGet(&handle, Int32(device.ordinal)), "cuDeviceGet")
        var value: Int32 = 0
        try driver.check(
            driver.cuDeviceGetAttribute(&value, concurrentManagedAccess, handle),
            "cuDeviceGetAttribute(concurrentManagedAccess)")
        return value != 0
    }

    // MARK: - Ordering

    /// Makes the collective stream wait for everything queued on the compute stream so far
    /// (without blocking either stream's later work or the host); returns the stream to queue
    /// the collective on.
    func orderedAfterCompute() throws -> CUhandle? {
        guard isSeparate, let streamWaitEvent else { return collectives }
        let driver = device.driver
        try driver.check(driver.cuEventRecord(computeDone, compute), "cuEventRecord")
        // The wait binds to this record; re-recording the event later does not affect it.
        try driver.check(streamWaitEvent(collectives, computeDone, 0), "cuStreamWaitEvent")
        return collectives
    }

    /// 0 when both streams are idle, `notReady` while work is pending, else the driver's error.
    func status() -> CUresult {
        let first = streamQuery(collectives)
        guard first == 0, isSeparate else { return first }
        return streamQuery(compute)
    }
}
