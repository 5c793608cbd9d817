import Foundation
import HSACore

/// The chunk key/value records of streaming inference on a GPU (`AcceleratedChunkStore`): fixed
/// segments of `chunksPerSegment` records (about 256 MiB each), allocated as chunks arrive — in
/// device memory while the device budget lasts, then in pinned, device-mapped host memory that
/// the kernels read over PCIe (spilling). A device table of segment addresses lets one kernel
/// read both kinds. Records are (2, S, NKV, HS) in fp32 or bf16.
public final class CUDAChunkStore: AcceleratedChunkStore {
    /// Elements per chunk record: 2 * S * NKV * HS.
    public let recordElements: Int
    /// Whether elements are stored as bf16 (else fp32).
    public let isHalfPrecision: Bool
    /// Records per segment.
    public let chunksPerSegment: Int
    /// Bytes of device memory the records may use before spilling to host memory.
    public let deviceBudget: Int
    /// Chunks stored.
    public private(set) var chunkCount = 0
    /// Bytes of records in device memory (whole segments).
    public private(set) var deviceBytes = 0
    /// Bytes of records in pinned host memory (whole segments).
    public private(set) var hostBytes = 0
    /// (segments) device table of segment addresses (UInt64), read by the kernels.
    let segmentTable: DeviceBuffer

    private let backend: CUDABackend
    private var deviceSegments: [DeviceBuffer] = []
    private var hostSegments: [UnsafeMutableRawPointer] = []
    private var segmentAddresses: [UInt64] = []
    private let pinned: PinnedHostAPI

    /// Most segments a store can hold (the table's size).
    static let maxSegments = 16_384

    /// An empty store on `backend`'s device. `deviceBudget` nil: `HSA_KV_DEVICE_BYTES` when set,
    /// else the free device memory less a reserve for activations (max(8 GiB, 15% of total)).
    public init(
        backend: CUDABackend, recordElements: Int, halfPrecision: Bool, deviceBudget: Int? = nil
    ) throws {
        self.backend = backend
        self.recordElements = recordElements
        isHalfPrecision = halfPrecision
        let recordBytes = recordElements * (halfPrecision ? 2 : 4)
        chunksPerSegment = max(1, (256 << 20) / max(recordBytes, 1))
        pinned = try PinnedHostAPI(device: backend.device)
        let device = backend.device
        try device.makeCurrent()
        var free = 0
        var total = 0
        try device.driver.check(device.driver.cuMemGetInfo(&free, &total), "cuMemGetInfo_v2")
        let environment = HSAEnvironment.kvDeviceBytes.value
        self.deviceBudget =
            deviceBudget ?? environment.flatMap { Int($0) }
            ?? max(0, free - max(8 << 30, total / 100 * 15))
        segmentTable = try DeviceBuffer(device: device, byteCount: Self.maxSegments * 8)
    }

    deinit {
        for segment in hostSegments { pinned.free(segment) }
    }

    /// Bytes of one segment.
    var segmentBytes: Int { chunksPerSegment * recordElements * (isHalfPrecision ? 2 : 4) }

    /// Appends `chunks` records from `keys` and `values`, each (chunks * S, NKV * HS) fp32 in
    /// device (or managed) memory; stream-ordered, no wait.
    public func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int)
        throws
    {
        guard chunks > 0 else { return }
        try reserve(chunkCount + chunks)
        let device = backend.device
        let total = chunks * recordElements
        let blocks = min((total + 255) / 256, 16_384)
        try backend.launch(
            "hsa_stream_kv_append_v1", in: .streaming, grid: (blocks, 1), block: 256,
            [
                .buffer(segmentTable), .int(Int32(chunksPerSegment)), .int(Int32(chunkCount)),
                .buffer(
                    DeviceBuffer(device: device, borrowing: address(keys), byteCount: total * 2)),
                .buffer(
                    DeviceBuffer(device: device, borrowing: address(values), byteCount: total * 2)),
                .int(Int32(chunks)), .int64(Int64(recordElements / 2)),
                .int(isHalfPrecision ? 1 : 0),
            ])
        chunkCount += chunks
    }

    /// Allocates segments until `chunks` records fit, device first, then pinned host memory.
    private func reserve(_ chunks: Int) throws {
        while segmentAddresses.count * chunksPerSegment < chunks {
            guard segmentAddresses.count < Self.maxSegments else {
                throw CUDAError.invalidArgument(
                    "CUDAChunkStore: more than \(Self.maxSegments) segments of \(segmentBytes) "
                        + "bytes; hint: use --kv-precision bf16")
            }
            let bytes = segmentBytes
            let addressValue: UInt64
            if deviceBytes + bytes <= deviceBudget,
                let buffer = try? DeviceBuffer(device: backend.device, byteCount: bytes)
            {
                deviceSegments.append(buffer)
                deviceBytes += bytes
                addressValue = buffer.address
            } else {
                let (host, deviceAddress) = try pinned.allocate(bytes: bytes)
                hostSegments.append(host)
                hostBytes += bytes
                addressValue = deviceAddress
            }
            var entry = addressValue
            let device = backend.device
            try device.makeCurrent()
            try device.driver.check(
                device.driver.cuMemcpyHtoD(
                    segmentTable.address + CUdeviceptr(segmentAddresses.count * 8), &entry, 8),
                "cuMemcpyHtoD_v2(segment table)")
            segmentAddresses.append(addressValue)
        }
    }

    private func address(_ pointer: UnsafePointer<Float>) -> CUdeviceptr {
        CUdeviceptr(UInt(bitPattern: pointer))
    }
}

// MARK: - Pinned host memory

/// `cuMemHostAlloc` / `cuMemHostGetDevicePointer_v2` / `cuMemFreeHost`, bound here (the shared
/// `DriverAPI` does not need them).
struct PinnedHostAPI {
    typealias HostAlloc =
        @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int, UInt32) -> CUresult
    typealias HostDevicePointer =
        @convention(c) (UnsafeMutablePointer<CUdeviceptr>, UnsafeMutableRawPointer, UInt32) ->
        CUresult
    typealias FreeHost = @convention(c) (UnsafeMutableRawPointer) -> CUresult

    let device: CUDADevice
    private let hostAlloc: HostAlloc
    private let devicePointer: HostDevicePointer
    private let freeHost: FreeHost

    init(device: CUDADevice) throws {
        self.device = device
        let library = device.libraries.driverLibrary
        let names = ["cuMemHostAlloc", "cuMemHostGetDevicePointer_v2", "cuMemFreeHost"]
        let symbols = names.map { library.symbol($0) }
        guard let alloc = symbols[0], let pointer = symbols[1], let free = symbols[2] else {
            throw CUDAError.missingSymbols(library: library.path, symbols: names)
        }
        hostAlloc = unsafeBitCast(alloc, to: HostAlloc.self)
        devicePointer = unsafeBitCast(pointer, to: HostDevicePointer.self)
        freeHost = unsafeBitCast(free, to: FreeHost.self)
    }

    /// `bytes` of pinned, portable, device-mapped host memory and its device address.
    func allocate(bytes: Int) throws -> (UnsafeMutableRawPointer, CUdeviceptr) {
        try device.makeCurrent()
        var host: UnsafeMutableRawPointer? = nil
        // CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP
        try device.driver.check(hostAlloc(&host, bytes, 0x01 | 0x02), "cuMemHostAlloc(\(bytes))")
        guard let host else {
            throw CUDAError.invalidArgument("cuMemHostAlloc(\(bytes)) returned no memory")
        }
        var address: CUdeviceptr = 0
        try device.driver.check(devicePointer(&address, host, 0), "cuMemHostGetDevicePointer_v2")
        return (host, address)
    }

    /// Frees memory from `allocate` (errors ignored: called from deinit).
    func free(_ host: UnsafeMutableRawPointer) {
        _ = freeHost(host)
    }
}
