/// Everything that can go wrong reading or writing safetensors files and sharded checkpoints.
///
/// `file` is the file's last path component (or `<memory>` for in-memory buffers); `tensor` is
/// the tensor's name as written in the header.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read or written.
    case io(file: String, reason: String)
    /// The file is shorter than the 8-byte header length.
    case fileTooSmall(file: String, size: Int)
    /// The header length exceeds the reference limit of 100,000,000 bytes.
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    /// The header length points past the end of the file.
    case headerBeyondFile(file: String, headerLength: UInt64, fileSize: Int)
    /// The header bytes are not valid UTF-8.
    case invalidUTF8(file: String)
    /// The header is not a JSON object of the expected form.
    case invalidJSON(file: String, reason: String)
    /// A key appears twice in the header (or in `__metadata__`).
    case duplicateKey(file: String, key: String)
    /// `__metadata__` is not a string-to-string map.
    case invalidMetadata(file: String, reason: String)
    /// A tensor entry lacks a field or has a malformed one.
    case invalidEntry(file: String, tensor: String, reason: String)
    /// A tensor names a dtype this reader does not know.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// Element count times element size overflows `Int`.
    case sizeOverflow(file: String, tensor: String, shape: [Int])
    /// The tensor's byte range does not match its dtype and shape.
    case byteCountMismatch(
        file: String, tensor: String, offsets: [Int], dtype: SafetensorsDType, shape: [Int],
        expectedBytes: Int)
    /// The first tensor (in offset order) does not start at offset 0.
    case notStartingAtZero(file: String, tensor: String, begin: Int)
    /// Unused bytes lie between two consecutive tensors.
    case offsetGap(file: String, tensor: String, previous: String, previousEnd: Int, begin: Int)
    /// Two tensors share bytes.
    case offsetOverlap(
        file: String, tensor: String, previous: String, previousEnd: Int, begin: Int)
    /// The file ends before the last tensor's data.
    case truncated(file: String, expectedSize: Int, actualSize: Int)
    /// The file holds bytes after the last tensor's data.
    case trailingBytes(file: String, expectedSize: Int, actualSize: Int)
    /// No tensor of that name exists.
    case tensorNotFound(file: String, tensor: String)
    /// The tensor's dtype cannot be converted to the requested element type.
    case unsupportedConversion(file: String, tensor: String, dtype: SafetensorsDType, to: String)
    /// A tensor given to the writer is inconsistent.
    case invalidTensor(tensor: String, reason: String)
    /// The writer was given two tensors with the same name.
    case duplicateTensorName(tensor: String)
    /// A sharded checkpoint's index file is malformed.
    case invalidIndex(file: String, reason: String)
    /// A shard listed in the index file does not exist.
    case missingShard(index: String, shard: String)
    /// A tensor appears in two shards.
    case duplicateTensor(tensor: String, firstFile: String, secondFile: String)
    /// The index and a shard disagree about where a tensor lives.
    case indexMismatch(index: String, tensor: String, reason: String)
    /// Neither a single file nor an index exists for a checkpoint.
    case checkpointNotFound(directory: String, baseName: String)

    public var description: String {
        switch self {
        case .io(let file, let reason):
            return "\(file): \(reason)"
        case .fileTooSmall(let file, let size):
            return "\(file): \(size) bytes, but a safetensors file needs at least 8 "
                + "(the header length); hint: the file is empty or not a safetensors file"
        case .headerTooLarge(let file, let length, let limit):
            return "\(file): header length \(length) exceeds the limit of \(limit) bytes; "
                + "hint: the file is probably not a safetensors file"
        case .headerBeyondFile(let file, let length, let size):
            return "\(file): header length \(length) but the file has only \(size) bytes"
                + "; hint: the file is truncated or not a safetensors file"
        case .invalidUTF8(let file):
            return "\(file): header is not valid UTF-8"
        case .invalidJSON(let file, let reason):
            return "\(file): invalid header JSON: \(reason)"
        case .duplicateKey(let file, let key):
            return "\(file): duplicate key '\(key)' in header"
        case .invalidMetadata(let file, let reason):
            return "\(file): invalid __metadata__: \(reason); "
                + "hint: __metadata__ must map strings to strings"
        case .invalidEntry(let file, let tensor, let reason):
            return "\(file): tensor '\(tensor)': \(reason)"
        case .unknownDType(let file, let tensor, let dtype):
            return "\(file): tensor '\(tensor)' has unknown dtype '\(dtype)'; "
                + "hint: supported dtypes are \(SafetensorsDType.supportedNames)"
        case .sizeOverflow(let file, let tensor, let shape):
            return "\(file): tensor '\(tensor)' shape \(shape) overflows the byte count"
        case .byteCountMismatch(
            let file, let tensor, let offsets, let dtype, let shape,
            let expected):
            return "\(file): tensor '\(tensor)' data_offsets \(offsets) but "
                + "\(dtype.rawValue) \(shape) needs \(expected) bytes"
        case .notStartingAtZero(let file, let tensor, let begin):
            return "\(file): first tensor '\(tensor)' starts at offset \(begin), expected 0"
        case .offsetGap(let file, let tensor, let previous, let previousEnd, let begin):
            return "\(file): tensor '\(tensor)' starts at \(begin) but the previous tensor "
                + "'\(previous)' ends at \(previousEnd) (gap of \(begin - previousEnd) bytes)"
        case .offsetOverlap(let file, let tensor, let previous, let previousEnd, let begin):
            return "\(file): tensor '\(tensor)' starts at \(begin) but the previous tensor "
                + "'\(previous)' ends at \(previousEnd) (overlap of \(previousEnd - begin) bytes)"
        case .truncated(let file, let expected, let actual):
            return "\(file): file has \(actual) bytes but the header describes \(expected); "
                + "hint: the file is truncated (interrupted download or write?)"
        case .trailingBytes(let file, let expected, let actual):
            return "\(file): file has \(actual) bytes but the header describes only "
                + "\(expected); the \(actual - expected) trailing bytes belong to no tensor"
        case .tensorNotFound(let file, let tensor):
            return "\(file): no tensor named '\(tensor)'"
        case .unsupportedConversion(let file, let tensor, let dtype, let target):
            return "\(file): tensor '\(tensor)' has dtype \(dtype.rawValue), "
                + "which cannot be read as \(target)"
        case .invalidTensor(let tensor, let reason):
            return "cannot write tensor '\(tensor)': \(reason)"
        case .duplicateTensorName(let tensor):
            return "cannot write: tensor name '\(tensor)' given twice"
        case .invalidIndex(let file, let reason):
            return "\(file): invalid index: \(reason)"
        case .missingShard(let index, let shard):
            return "\(index): lists shard '\(shard)', which does not exist; "
                + "hint: copy all shard files next to the index"
        case .duplicateTensor(let tensor, let first, let second):
            return "tensor '\(tensor)' appears in both '\(first)' and '\(second)'"
        case .indexMismatch(let index, let tensor, let reason):
            return "\(index): tensor '\(tensor)': \(reason)"
        case .checkpointNotFound(let directory, let baseName):
            return "\(directory): neither \(baseName).safetensors nor "
                + "\(baseName).safetensors.index.json exists"
        }
    }
}
