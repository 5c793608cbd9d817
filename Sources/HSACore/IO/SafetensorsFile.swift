import Foundation

/// A validated safetensors file, memory-mapped (or read) once, with typed tensor access.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON, then the data
/// buffer. Validation follows the Rust reference (`safetensors/src/tensor.rs`): header at most
/// 100 MB, no duplicate keys, offsets tiling the buffer from 0 without gaps or overlaps, byte
/// counts matching dtype and shape, and the buffer ending exactly at the end of the file.
///
/// Tensor data may be unaligned (MLX writes unpadded headers), so all typed reads go through
/// `loadUnaligned`.
public struct SafetensorsFile: Sendable {
    /// Where the file was read from (nil for in-memory buffers).
    public let url: URL?
    /// Name used in error messages: the file's last path component.
    public let fileName: String
    /// The header's `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Every tensor by name.
    public let tensors: [String: SafetensorsTensorInfo]
    /// Tensor names in data-buffer order (by byte offset).
    public let names: [String]
    /// The whole file.
    private let contents: Data
    /// Offset of the data buffer in `contents` (8 + N).
    private let bufferStart: Int

    /// Opens and validates the file at `url`, memory-mapping it when possible.
    public init(url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafetensorsError.io(
                file: url.lastPathComponent, reason: "cannot read: \(fileErrorReason(error))")
        }
        try self.init(data: data, fileName: url.lastPathComponent, url: url)
    }

    /// Validates an in-memory safetensors buffer.
    public init(data: Data, fileName: String = "<memory>") throws {
        try self.init(data: data, fileName: fileName, url: nil)
    }

    private init(data: Data, fileName: String, url: URL?) throws {
        // Rebase slices so that offsets below are plain 0-based integers.
        let contents = data.startIndex == 0 ? data : Data(data)
        let fileSize = contents.count
        guard fileSize >= 8 else {
            throw SafetensorsError.fileTooSmall(file: fileName, size: fileSize)
        }
        let headerLength = contents.withUnsafeBytes {
            UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))
        }
        guard headerLength <= UInt64(SafetensorsHeader.maxHeaderSize) else {
            throw SafetensorsError.headerTooLarge(
                file: fileName, headerLength: headerLength, limit: SafetensorsHeader.maxHeaderSize)
        }
        let headerSize = Int(headerLength)
        guard 8 + headerSize <= fileSize else {
            throw SafetensorsError.headerBeyondFile(
                file: fileName, headerLength: headerLength, fileSize: fileSize)
        }
        let headerBytes = [UInt8](contents[8..<(8 + headerSize)])
        let header = try SafetensorsHeader.parse(headerBytes, file: fileName)
        let expectedSize = 8 + headerSize + header.bufferSize
        if fileSize < expectedSize {
            throw SafetensorsError.truncated(
                file: fileName, expectedSize: expectedSize, actualSize: fileSize)
        }
        if fileSize > expectedSize {
            throw SafetensorsError.trailingBytes(
                file: fileName, expectedSize: expectedSize, actualSize: fileSize)
        }
        self.url = url
        self.fileName = fileName
        self.metadata = header.metadata
        self.names = header.tensors.map(\.name)
        self.tensors = Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.name, $0) })
        self.contents = contents
        self.bufferStart = 8 + headerSize
    }

    // MARK: - Raw access

    /// The description of tensor `name`.
    public func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = tensors[name] else {
            throw SafetensorsError.tensorNotFound(file: fileName, tensor: name)
        }
        return info
    }

    /// A copy of the raw little-endian bytes of tensor `name`.
    public func bytes(_ name: String) throws -> Data {
        let range = try info(name).byteRange
        let start = bufferStart + range.lowerBound
        return contents.subdata(in: start..<(start + range.count))
    }

    /// Calls `body` with the raw bytes of tensor `name` in place (possibly unaligned).
    public func withUnsafeBytes<Result>(
        _ name: String, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        let range = try info(name).byteRange
        let start = bufferStart + range.lowerBound
        return try contents.withUnsafeBytes { whole in
            try body(UnsafeRawBufferPointer(rebasing: whole[start..<(start + range.count)]))
        }
    }

    // MARK: - Typed access

    /// The elements of tensor `name` converted to `Float` (from F32, F16, BF16 or F64).
    public func floats(_ name: String) throws -> [Float] {
        let info = try self.info(name)
        guard info.dtype.isFloatConvertible else {
            throw SafetensorsError.unsupportedConversion(
                file: fileName, tensor: name, dtype: info.dtype, to: "Float")
        }
        var result = [Float](repeating: 0, count: info.elementCount)
        try withUnsafeBytes(name) { raw in
            result.withUnsafeMutableBufferPointer { out in
                SafetensorsConversion.toFloats(raw, dtype: info.dtype, into: out)
            }
        }
        return result
    }

    /// The elements of tensor `name` as `Int32` (from I32, or from I64/U32/U8/I8/I16/U16/BOOL
    /// when every value fits).
    public func int32s(_ name: String) throws -> [Int32] {
        let info = try self.info(name)
        let values = try withUnsafeBytes(name) { raw in
            SafetensorsConversion.toInt32s(raw, dtype: info.dtype, count: info.elementCount)
        }
        guard let values else {
            throw SafetensorsError.unsupportedConversion(
                file: fileName, tensor: name, dtype: info.dtype, to: "Int32")
        }
        return values
    }

    /// Tensor `name` as an fp32 `Tensor` of the same shape.
    public func tensor(_ name: String) throws -> Tensor {
        let info = try self.info(name)
        return Tensor(shape: info.shape, values: try floats(name))
    }
}
