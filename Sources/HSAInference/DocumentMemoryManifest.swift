import Foundation
import HSACPU
import HSACore
import HSAModel

/// A document memory's memory.json: which model built it, what it read, and the size and
/// checksums of each of its binary files. It carries its own SHA-256 (`manifest_sha256`,
/// over the file's bytes with those 64 digits written as zeros), so a damaged byte anywhere in
/// it is caught before anything in it is believed.
public struct DocumentMemoryManifest: Codable, Sendable {
    /// A document read into the memory.
    public struct Document: Codable, Equatable, Sendable {
        /// The path it was given as.
        public let path: String
        /// Bytes read (one token each).
        public let bytes: Int
    }

    /// One binary file of the memory.
    public struct File: Codable, Equatable, Sendable {
        /// Its name inside the memory's directory.
        public let name: String
        /// Its size (`checksums.bytes`) and segment digests.
        public var checksums: SegmentChecksums
    }

    /// Rows for consecutive positions.
    public struct RowSpan: Codable, Equatable, Sendable {
        /// Absolute position of the first row.
        public let firstPosition: Int
        /// Number of rows.
        public let rows: Int

        enum CodingKeys: String, CodingKey {
            case firstPosition = "first_position"
            case rows
        }
    }

    /// How the state file is laid out, fp32 little-endian rows in this order: per lower layer
    /// its window's keys, then its values (NKV*HS floats a row); the incomplete chunk's rows,
    /// then the tail's (C floats a row).
    public struct StateLayout: Codable, Equatable, Sendable {
        /// Per lower layer, the positions of its key/value window.
        public let lowerWindows: [RowSpan]
        /// Rows of the incomplete chunk (H of the positions after the last chunk).
        public let pendingRows: Int
        /// The kept tail of H.
        public let tail: RowSpan

        enum CodingKeys: String, CodingKey {
            case lowerWindows = "lower_windows"
            case pendingRows = "pending_rows"
            case tail
        }
    }

    /// The value of `format`.
    public static let formatName = "hsa-document-memory"
    /// The version this code writes and reads.
    public static let currentVersion = 1

    /// Always `formatName`.
    public var format = Self.formatName
    /// The layout version.
    public var version = Self.currentVersion
    /// The model that built the memory.
    public var model: ModelIdentity
    /// Tokens read: BOS, then one per document byte.
    public var tokens: Int
    /// Chunks in keys-values.bin and landmarks.bin.
    public var chunks: Int
    /// Element type of keys-values.bin: fp32 or bf16.
    public var kvPrecision: String
    /// The documents read, in order (BOS, then their bytes back to back).
    public var documents: [Document]
    /// Counts the writes (build 1, each append one more); names the state file.
    public var generation: Int
    /// The chunks' keys and values, one record of (2, S, NKV, HS) elements per chunk.
    public var keysValues: File
    /// The chunks' landmarks, (chunks, NKV*DR) fp32.
    public var landmarks: File
    /// The rest of the streaming state, laid out as `stateLayout` says.
    public var state: File
    /// Where each part of the state lies in the state file.
    public var stateLayout: StateLayout
    /// SHA-256 of memory.json with these 64 digits written as zeros.
    public var manifestSHA256 = String(repeating: "0", count: 64)

    enum CodingKeys: String, CodingKey {
        case format, version, model, tokens, chunks, documents, generation, landmarks, state
        case kvPrecision = "kv_precision"
        case keysValues = "keys_values"
        case stateLayout = "state_layout"
        case manifestSHA256 = "manifest_sha256"
    }

    /// The element type of keys-values.bin.
    public var precision: KVPrecision? { KVPrecision(rawValue: kvPrecision) }

    /// Bytes of the binary files (keys/values, landmarks, state) this manifest vouches for.
    public var binaryBytes: Int {
        keysValues.checksums.bytes + landmarks.checksums.bytes + state.checksums.bytes
    }
}

// MARK: - memory.json

extension DocumentMemoryManifest {
    /// The bytes of memory.json: key-sorted, indented JSON with its checksum filled in.
    public func encoded() throws -> Data {
        var blank = self
        blank.manifestSHA256 = String(repeating: "0", count: 64)
        var data = try JSONEncoder.sortedPretty(escapingSlashes: false).encode(blank)
        guard let digits = Self.checksumRange(in: data) else { return data }
        data.replaceSubrange(digits, with: Data(SHA256.digestHex(of: data).utf8))
        return data
    }

    /// Reads memory.json at `url`: its own checksum first, then its format and version, then
    /// the rest.
    /// - Throws: `DocumentMemoryError`.
    public static func load(from url: URL) throws -> DocumentMemoryManifest {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DocumentMemoryError.damaged(
                file: url.path, reason: "cannot read (\(fileErrorReason(error)))")
        }
        guard let digits = checksumRange(in: data) else {
            throw DocumentMemoryError.damaged(
                file: url.path, reason: "has no readable manifest_sha256")
        }
        var blank = data
        blank.replaceSubrange(digits, with: Data(repeating: UInt8(ascii: "0"), count: 64))
        guard SHA256.digestHex(of: blank) == String(decoding: data[digits], as: UTF8.self)
        else {
            throw DocumentMemoryError.damaged(
                file: url.path, reason: "fails its own SHA-256 check (manifest_sha256)")
        }
        // The format and version first: a later version may not decode as this one.
        struct Header: Decodable {
            let format: String
            let version: Int
        }
        let decoder = JSONDecoder()
        guard let header = try? decoder.decode(Header.self, from: data),
            header.format == formatName
        else {
            throw DocumentMemoryError.unsupportedFormat(
                manifest: url.path, reason: "not the memory.json of an hsa document memory")
        }
        guard header.version == currentVersion else {
            throw DocumentMemoryError.unsupportedFormat(
                manifest: url.path,
                reason: "format version \(header.version); this hsa reads version "
                    + "\(currentVersion)"
                    + (header.version > currentVersion ? "; hint: update hsa" : ""))
        }
        do {
            return try decoder.decode(
                DocumentMemoryManifest.self, from: completingModelConfig(data, source: url.path))
        } catch let error as DocumentMemoryError {
            throw error
        } catch {
            let reason = (error as? DecodingError)?.fieldDescription ?? "\(error)"
            throw DocumentMemoryError.damaged(file: url.path, reason: "not a manifest: \(reason)")
        }
    }

    /// `data` with its `model.config` read as config.json is: validated, and a field added to
    /// the config after the memory was written set to the value that keeps its old meaning
    /// (`ModelConfig.addedFieldDefaults`), so older memories keep opening.
    private static func completingModelConfig(_ data: Data, source: String) throws -> Data {
        guard var root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            var model = root["model"] as? [String: Any], let config = model["config"]
        else { return data }
        let completed: ModelConfig
        do {
            completed = try ModelConfig.decode(
                JSONSerialization.data(withJSONObject: config), source: "model.config")
        } catch {
            throw DocumentMemoryError.damaged(file: source, reason: "\(error)")
        }
        model["config"] = try JSONSerialization.jsonObject(with: completed.encoded())
        root["model"] = model
        return try JSONSerialization.data(withJSONObject: root)
    }

    /// Where the 64 digits of `"manifest_sha256": "…"` lie in `data`. The key, quotes
    /// included, cannot occur elsewhere: inside a JSON string its quotes would be escaped.
    private static func checksumRange(in data: Data) -> Range<Data.Index>? {
        guard let key = data.range(of: Data("\"manifest_sha256\"".utf8)) else { return nil }
        var i = key.upperBound
        while i < data.endIndex, data[i] == UInt8(ascii: " ") || data[i] == UInt8(ascii: ":") {
            i += 1
        }
        guard i < data.endIndex, data[i] == UInt8(ascii: "\""),
            i + 65 < data.endIndex, data[i + 65] == UInt8(ascii: "\"")
        else { return nil }
        return (i + 1)..<(i + 65)
    }
}

extension SHA256 {
    /// The lowercase hex digest of `data`.
    fileprivate static func digestHex(of data: Data) -> String {
        var hasher = SHA256()
        data.withUnsafeBytes { hasher.update($0) }
        return hasher.finalizeHex()
    }
}
