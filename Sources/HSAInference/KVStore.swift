import Foundation
import HSACPU

/// Append-only storage of the chunk memory's keys and values: one record per chunk,
/// (2, S, NKV, HS) elements = the chunk's S key rows, then its S value rows (raw, before any
/// HSA layer's key norm), in fp32 or bf16. Host stores (`HostKVStore`) are read by the CPU;
/// `DeviceKVStore` keeps them in an accelerator's memory.
public protocol KVStore: AnyObject {
    /// Elements per chunk record: 2 * S * NKV * HS.
    var recordFloats: Int { get }
    /// How each element is stored.
    var precision: KVPrecision { get }
    /// Chunks stored.
    var chunkCount: Int { get }
    /// Bytes the stored records occupy (in RAM, in the file or on the device).
    var storedBytes: Int { get }
    /// Appends `chunks` records from `keys` and `values`, each (chunks * S, NKV * HS) fp32.
    func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int) throws
}

/// A `KVStore` whose records the CPU reads in place (RAM or a memory-mapped file).
public protocol HostKVStore: KVStore {
    /// The first record; `chunkCount` records follow contiguously. Valid until the next append.
    var records: UnsafeRawPointer { get }
    /// Drops the records read so far from this process's resident memory, where that is
    /// possible (file-backed stores); the data stays available.
    func releaseResidentPages()
}

extension HostKVStore {
    /// Bytes the stored records occupy.
    public var storedBytes: Int { chunkCount * recordFloats * precision.bytes }
}

// MARK: - Encoding

extension KVPrecision {
    /// Writes `count` fp32 values into `target` in this precision (bf16: round to nearest
    /// even).
    func encode(_ source: UnsafePointer<Float>, count: Int, into target: UnsafeMutableRawPointer) {
        switch self {
        case .fp32:
            target.copyMemory(from: source, byteCount: count * 4)
        case .bf16:
            let halves = target.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { halves[i] = CPU.bfloat16Bits(source[i]) }
        }
    }

    /// Writes `chunks` records of `recordFloats` elements one after another into `target`:
    /// record `c` holds the `recordFloats / 2` fp32 values at `keys + c * recordFloats / 2`,
    /// then as many from `values`, in this precision.
    func encodeRecords(
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int, recordFloats: Int,
        into target: UnsafeMutableRawPointer
    ) {
        let half = recordFloats / 2
        let recordBytes = recordFloats * bytes
        for chunk in 0..<chunks {
            let record = target + chunk * recordBytes
            encode(keys + chunk * half, count: half, into: record)
            encode(values + chunk * half, count: half, into: record + half * bytes)
        }
    }
}

// MARK: - RAM

/// Records in one growable RAM buffer (capacity doubles: amortised O(1) appends).
public final class RAMKVStore: HostKVStore {
    /// Elements per chunk record: 2 * S * NKV * HS.
    public let recordFloats: Int
    /// How each element is stored.
    public let precision: KVPrecision
    /// Chunks stored.
    public private(set) var chunkCount = 0
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int  // records

    /// An empty store of records of `recordFloats` elements.
    public init(recordFloats: Int, precision: KVPrecision = .fp32) {
        self.recordFloats = recordFloats
        self.precision = precision
        capacity = 16
        storage = .allocate(
            byteCount: capacity * max(recordFloats, 1) * precision.bytes, alignment: 64)
    }

    deinit { storage.deallocate() }

    /// The first record; valid until the next append.
    public var records: UnsafeRawPointer { UnsafeRawPointer(storage) }

    /// Nothing to release: the records live in RAM.
    public func releaseResidentPages() {}

    /// Appends `chunks` records from `keys` and `values`, each (chunks * S, NKV * HS) fp32.
    public func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int) {
        let recordBytes = recordFloats * precision.bytes
        if chunkCount + chunks > capacity {
            let newCapacity = max(capacity * 2, chunkCount + chunks)
            let grown = UnsafeMutableRawPointer.allocate(
                byteCount: newCapacity * recordBytes, alignment: 64)
            grown.copyMemory(from: storage, byteCount: chunkCount * recordBytes)
            storage.deallocate()
            storage = grown
            capacity = newCapacity
        }
        precision.encodeRecords(
            keys: keys, values: values, chunks: chunks, recordFloats: recordFloats,
            into: storage + chunkCount * recordBytes)
        chunkCount += chunks
    }
}
