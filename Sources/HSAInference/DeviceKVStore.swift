import HSACPU
import HSACore

/// Chunk keys/values in an accelerator's memory (`AcceleratedChunkStore`: device memory first,
/// host memory past the device budget), read only by the accelerator's streaming HSA.
public final class DeviceKVStore: KVStore {
    /// The accelerator's store.
    public let device: any AcceleratedChunkStore

    /// An empty store of records of `recordFloats` elements made by `accelerator`.
    public init(
        recordFloats: Int, precision: KVPrecision, accelerator: any StreamingAccelerator
    ) throws {
        device = try accelerator.makeChunkStore(
            recordElements: recordFloats, halfPrecision: precision == .bf16)
    }

    /// Elements per chunk record: 2 * S * NKV * HS.
    public var recordFloats: Int { device.recordElements }
    /// How each element is stored.
    public var precision: KVPrecision { device.isHalfPrecision ? .bf16 : .fp32 }
    /// Chunks stored.
    public var chunkCount: Int { device.chunkCount }
    /// Bytes of records, device and host together.
    public var storedBytes: Int { device.deviceBytes + device.hostBytes }

    /// Appends `chunks` records from `keys` and `values`, each (chunks * S, NKV * HS) fp32 in
    /// the accelerator's memory.
    public func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int)
        throws
    {
        try device.append(keys: keys, values: values, chunks: chunks)
    }
}
