// MARK: - Tensor info

/// Where one tensor lives in a safetensors file and how to read it.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// Name as written in the header (for example `layers.0.attn.q_proj.weight`).
    public var name: String
    /// Element type.
    public var dtype: SafetensorsDType
    /// Dimensions, outermost first; `[]` for a 0-rank scalar.
    public var shape: [Int]
    /// Byte range relative to the start of the data buffer (the header's `data_offsets`).
    public var byteRange: Range<Int>

    /// Number of elements (1 for a 0-rank scalar, 0 when a dimension is 0).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Creates a tensor description.
    public init(name: String, dtype: SafetensorsDType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }
}

// MARK: - Header parsing and validation

/// A parsed and validated header: what the Rust reference's `Metadata::validate` accepts.
struct SafetensorsHeader {
    /// The `__metadata__` map (empty when absent).
    var metadata: [String: String]
    /// Tensors ordered by byte offset (ties, i.e. empty tensors, by name).
    var tensors: [SafetensorsTensorInfo]
    /// Bytes the data buffer must hold (end of the last tensor).
    var bufferSize: Int

    /// The reference's `MAX_HEADER_SIZE`.
    static let maxHeaderSize = 100_000_000

    /// Parses `headerBytes` (the N JSON bytes) and validates offsets against dtypes and shapes.
    static func parse(_ headerBytes: [UInt8], file: String) throws -> SafetensorsHeader {
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw SafetensorsError.invalidUTF8(file: file)
        }
        let root: SafetensorsJSONValue
        do {
            root = try SafetensorsJSONParser.parse(headerBytes)
        } catch SafetensorsJSONError.duplicateKey(let key) {
            throw SafetensorsError.duplicateKey(file: file, key: key)
        } catch SafetensorsJSONError.syntax(let reason) {
            throw SafetensorsError.invalidJSON(file: file, reason: reason)
        }
        guard case .object(let members) = root else {
            throw SafetensorsError.invalidJSON(
                file: file, reason: "top level is a \(root.kindName), expected an object")
        }
        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensorInfo] = []
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
            } else {
                tensors.append(try parseEntry(name: key, value, file: file))
            }
        }
        tensors.sort {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name)
                < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        let bufferSize = try validateOffsets(tensors, file: file)
        return SafetensorsHeader(metadata: metadata, tensors: tensors, bufferSize: bufferSize)
    }

    private static func parseMetadata(
        _ value: SafetensorsJSONValue, file: String
    ) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw SafetensorsError.invalidMetadata(
                file: file, reason: "it is a \(value.kindName), expected an object")
        }
        var result: [String: String] = [:]
        for (key, entry) in members {
            guard case .string(let text) = entry else {
                throw SafetensorsError.invalidMetadata(
                    file: file,
                    reason: "value of '\(key)' is a \(entry.kindName), expected a string")
            }
            result[key] = text
        }
        return result
    }

    private static func parseEntry(
        name: String, _ value: SafetensorsJSONValue, file: String
    ) throws -> SafetensorsTensorInfo {
        func invalid(_ reason: String) -> SafetensorsError {
            .invalidEntry(file: file, tensor: name, reason: reason)
        }
        guard case .object(let members) = value else {
            throw invalid("entry is a \(value.kindName), expected an object")
        }
        var dtypeName: String?
        var shape: [Int]?
        var offsets: [Int]?
        for (key, field) in members {
            switch key {
            case "dtype":
                guard case .string(let text) = field else { throw invalid("dtype is not a string") }
                dtypeName = text
            case "shape":
                guard case .array(let items) = field else { throw invalid("shape is not an array") }
                let dims = items.compactMap(\.nonNegativeInt)
                guard dims.count == items.count else {
                    throw invalid("shape must hold non-negative integers")
                }
                shape = dims
            case "data_offsets":
                guard case .array(let items) = field else {
                    throw invalid("data_offsets is not an array")
                }
                let values = items.compactMap(\.nonNegativeInt)
                guard values.count == 2, items.count == 2 else {
                    throw invalid("data_offsets must be two non-negative integers [begin, end]")
                }
                offsets = values
            default:
                // Unknown fields are ignored: no writer emits them, and ignoring is harmless.
                continue
            }
        }
        guard let dtypeName else { throw invalid("missing field 'dtype'") }
        guard let shape else { throw invalid("missing field 'shape'") }
        guard let offsets else { throw invalid("missing field 'data_offsets'") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(file: file, tensor: name, dtype: dtypeName)
        }
        guard offsets[0] <= offsets[1] else {
            throw invalid("data_offsets \(offsets) has begin after end")
        }
        guard let expected = byteCount(dtype: dtype, shape: shape) else {
            throw SafetensorsError.sizeOverflow(file: file, tensor: name, shape: shape)
        }
        guard offsets[1] - offsets[0] == expected else {
            throw SafetensorsError.byteCountMismatch(
                file: file, tensor: name, offsets: offsets, dtype: dtype, shape: shape,
                expectedBytes: expected)
        }
        return SafetensorsTensorInfo(
            name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
    }

    /// Element count times element size, or nil on overflow.
    static func byteCount(dtype: SafetensorsDType, shape: [Int]) -> Int? {
        var count = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Checks that tensors sorted by offset start at 0 and tile the buffer; returns its size.
    private static func validateOffsets(
        _ tensors: [SafetensorsTensorInfo], file: String
    ) throws -> Int {
        var end = 0
        var previous: String?
        for tensor in tensors {
            let begin = tensor.byteRange.lowerBound
            if let previous {
                if begin > end {
                    throw SafetensorsError.offsetGap(
                        file: file, tensor: tensor.name, previous: previous, previousEnd: end,
                        begin: begin)
                }
                if begin < end {
                    throw SafetensorsError.offsetOverlap(
                        file: file, tensor: tensor.name, previous: previous, previousEnd: end,
                        begin: begin)
                }
            } else if begin != 0 {
                throw SafetensorsError.notStartingAtZero(
                    file: file, tensor: tensor.name, begin: begin)
            }
            end = tensor.byteRange.upperBound
            previous = tensor.name
        }
        return end
    }
}
