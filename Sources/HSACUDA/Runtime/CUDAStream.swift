// A stream and timing events.

/// A CUDA stream created on `device` (blocking with respect to the legacy default stream, so
/// synchronous cuMemcpy calls order correctly with launched kernels).
public final class CUDAStream: @unchecked Sendable {
    /// The device.
    public let device: CUDADevice
    let handle: CUhandle?

    /// Creates a stream.
    public init(device: CUDADevice) throws {
        self.device = device
        self.handle = try device.createHandle("cuStreamCreate") {
            device.driver.cuStreamCreate($0, 0)
        }
    }

    /// Waits for all work queued on the stream; reports asynchronous kernel faults.
    public func synchronize() throws {
        try device.makeCurrent()
        try device.driver.check(device.driver.cuStreamSynchronize(handle), "cuStreamSynchronize")
    }
}

/// A CUDA event for timing work on a stream.
public final class CUDAEvent: @unchecked Sendable {
    let device: CUDADevice
    let handle: CUhandle?

    /// Creates an event (default flags: timing enabled).
    public init(device: CUDADevice) throws {
        self.device = device
        self.handle = try device.createHandle("cuEventCreate") {
            device.driver.cuEventCreate($0, 0)
        }
    }

    deinit { _ = device.driver.cuEventDestroy(handle) }

    /// Records the event on `stream`.
    public func record(on stream: CUDAStream) throws {
        try device.driver.check(device.driver.cuEventRecord(handle, stream.handle), "cuEventRecord")
    }

    /// Milliseconds from `start` to this event; waits for this event first.
    public func milliseconds(since start: CUDAEvent) throws -> Double {
        try device.driver.check(device.driver.cuEventSynchronize(handle), "cuEventSynchronize")
        var elapsed: Float = 0
        try device.driver.check(
            device.driver.cuEventElapsedTime(&elapsed, start.handle, handle), "cuEventElapsedTime")
        return Double(elapsed)
    }
}
