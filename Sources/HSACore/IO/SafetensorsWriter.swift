import Foundation

// MARK: - Entry

/// One tensor to write: name, dtype, shape and its little-endian bytes in row-major order.
public struct SafetensorsEntry: Sendable {
    /// Name in the header.
    public var name: String
    /// Element type.
    public var dtype: SafetensorsDType
    /// Dimensions, outermost first; `[]` for a scalar.
    public var shape: [Int]
    /// Raw bytes; their count must be `shape.product * dtype.byteSize`.
    public var bytes: Data

    /// Creates an entry from raw bytes.
    public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: Data) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An entry holding `values` as F32 (`dtype: .f32`), BF16 or F16 (rounded to nearest even).
    public init(name: String, shape: [Int], floats values: [Float], dtype: SafetensorsDType = .f32)
    {
        precondition([.f32, .bf16, .f16].contains(dtype), "floats can be written as F32/BF16/F16")
        let bytes: Data
        switch dtype {
        case .bf16: bytes = SafetensorsConversion.bfloat16Bytes(values)
        case .f16: bytes = SafetensorsConversion.float16Bytes(values)
        default: bytes = SafetensorsConversion.float32Bytes(values)
        }
        self.init(name: name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// An entry holding `values` as I32.
    public init(name: String, shape: [Int], int32s values: [Int32]) {
        self.init(
            name: name, dtype: .i32, shape: shape, bytes: SafetensorsConversion.int32Bytes(values))
    }

    /// An entry holding the elements of `tensor` (F32 by default, or BF16/F16).
    public init(name: String, tensor: Tensor, dtype: SafetensorsDType = .f32) {
        self.init(name: name, shape: tensor.shape, floats: tensor.toArray(), dtype: dtype)
    }
}

// MARK: - Writer

/// Writes safetensors files the way the Rust reference does: tensors sorted by dtype alignment
/// (largest element first) then by name, header JSON padded with spaces to a multiple of 8 bytes
/// so every tensor is aligned to its element size, and `__metadata__` first.
public enum SafetensorsWriter {
    /// The complete file contents for `entries` and `metadata`.
    public static func encode(
        _ entries: [SafetensorsEntry], metadata: [String: String] = [:]
    ) throws -> Data {
        let (header, ordered) = try makeHeader(entries, metadata: metadata)
        var data = Data(capacity: header.count + ordered.reduce(0) { $0 + $1.bytes.count })
        data.append(header)
        for entry in ordered { data.append(entry.bytes) }
        return data
    }

    /// Writes `entries` and `metadata` to `url` atomically (temporary file + rename).
    public static func write(
        _ entries: [SafetensorsEntry], metadata: [String: String] = [:], to url: URL
    ) throws {
        let (header, ordered) = try makeHeader(entries, metadata: metadata)
        try AtomicFile.write(to: url) { sink in
            try sink.write(header)
            for entry in ordered { try sink.write(entry.bytes) }
        }
    }

    /// The 8-byte length, the padded JSON header, and the entries in data order.
    static func makeHeader(
        _ entries: [SafetensorsEntry], metadata: [String: String]
    ) throws -> (Data, [SafetensorsEntry]) {
        var names = Set<String>()
        for entry in entries {
            guard entry.name != "__metadata__" else {
                throw SafetensorsError.invalidTensor(
                    tensor: entry.name, reason: "the name is reserved for the metadata map")
            }
            guard names.insert(entry.name).inserted else {
                throw SafetensorsError.duplicateTensorName(tensor: entry.name)
            }
            guard entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError.invalidTensor(
                    tensor: entry.name, reason: "negative dimension in shape \(entry.shape)")
            }
            guard let expected = SafetensorsHeader.byteCount(dtype: entry.dtype, shape: entry.shape)
            else {
                throw SafetensorsError.invalidTensor(
                    tensor: entry.name, reason: "shape \(entry.shape) overflows the byte count")
            }
            guard entry.bytes.count == expected else {
                throw SafetensorsError.invalidTensor(
                    tensor: entry.name,
                    reason: "\(entry.bytes.count) bytes but \(entry.dtype.rawValue) "
                        + "\(entry.shape) needs \(expected)")
            }
        }
        let ordered = entries.sorted {
            ($0.dtype.byteSize, $1.name) > ($1.dtype.byteSize, $0.name)
        }
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map {
                SafetensorsJSONText.quoted($0.key) + ":" + SafetensorsJSONText.quoted($0.value)
            }
            fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for entry in ordered {
            let end = offset + entry.bytes.count
            let shape = entry.shape.map(String.init).joined(separator: ",")
            fields.append(
                SafetensorsJSONText.quoted(entry.name) + ":{\"dtype\":\"\(entry.dtype.rawValue)\","
                    + "\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        // Pad with spaces (valid JSON whitespace) so the data buffer starts 8-byte aligned.
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var header = Data(capacity: 8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
        header.append(contentsOf: json)
        return (header, ordered)
    }
}
