import Foundation

// MARK: - Sharded checkpoints

/// Hugging Face style multi-file checkpoints.
///
/// A checkpoint `BASE` in a directory is either one file `BASE.safetensors`, or shards
/// `BASE-00001-of-0000N.safetensors` plus `BASE.safetensors.index.json`:
/// `{"metadata": {"total_size": BYTES}, "weight_map": {"tensor.name": "shard file name"}}`.
public enum SafetensorsShards {
    /// The index file name for `baseName`.
    public static func indexFileName(baseName: String) -> String {
        "\(baseName).safetensors.index.json"
    }

    /// The name of shard `number` (1-based) of `count`.
    public static func shardFileName(baseName: String, number: Int, count: Int) -> String {
        func padded(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, 5 - text.count)) + text
        }
        return "\(baseName)-\(padded(number))-of-\(padded(count)).safetensors"
    }

    /// Writes `entries` as one file, or as shards of at most `maxShardBytes` tensor bytes each.
    ///
    /// Tensors are packed greedily in the given order. A single tensor larger than the limit gets
    /// a shard of its own (tensors are never split). The limit counts tensor bytes only, not the
    /// headers, as Hugging Face's `max_shard_size` does. Every shard carries `metadata`.
    /// Each file is written atomically and the index last, so a crash mid-way never leaves an index
    /// pointing at missing shards. A stale single file or index of the other layout is removed.
    ///
    /// - Returns: the files written, index last when sharded.
    @discardableResult
    public static func write(
        _ entries: [SafetensorsEntry], metadata: [String: String] = [:], directory: URL,
        baseName: String = "model", maxShardBytes: Int? = nil
    ) throws -> [URL] {
        let fileManager = FileManager.default
        let singleURL = directory.appendingPathComponent("\(baseName).safetensors")
        let indexURL = directory.appendingPathComponent(indexFileName(baseName: baseName))
        let groups = partition(entries, maxShardBytes: maxShardBytes)
        if groups.count <= 1 {
            try SafetensorsWriter.write(entries, metadata: metadata, to: singleURL)
            if fileManager.fileExists(atPath: indexURL.path) {
                try? fileManager.removeItem(at: indexURL)
            }
            return [singleURL]
        }
        var written: [URL] = []
        var weightMap: [String: String] = [:]
        for (number, group) in groups.enumerated() {
            let name = shardFileName(baseName: baseName, number: number + 1, count: groups.count)
            let url = directory.appendingPathComponent(name)
            try SafetensorsWriter.write(group, metadata: metadata, to: url)
            for entry in group { weightMap[entry.name] = name }
            written.append(url)
        }
        let totalSize = entries.reduce(0) { $0 + $1.bytes.count }
        let index: [String: Any] = [
            "metadata": ["total_size": totalSize],
            "weight_map": weightMap,
        ]
        let json: Data
        do {
            json = try JSONSerialization.data(
                withJSONObject: index, options: [.prettyPrinted, .sortedKeys])
        } catch {
            throw SafetensorsError.io(file: indexURL.lastPathComponent, reason: "\(error)")
        }
        try AtomicFile.write(json, to: indexURL)
        if fileManager.fileExists(atPath: singleURL.path) {
            try? fileManager.removeItem(at: singleURL)
        }
        return written + [indexURL]
    }

    /// Groups entries into shards (one group when no limit is given).
    static func partition(
        _ entries: [SafetensorsEntry], maxShardBytes: Int?
    ) -> [[SafetensorsEntry]] {
        guard let limit = maxShardBytes else { return [entries] }
        var groups: [[SafetensorsEntry]] = []
        var current: [SafetensorsEntry] = []
        var currentBytes = 0
        for entry in entries {
            if !current.isEmpty, currentBytes + entry.bytes.count > limit {
                groups.append(current)
                current = []
                currentBytes = 0
            }
            current.append(entry)
            currentBytes += entry.bytes.count
        }
        if !current.isEmpty || groups.isEmpty { groups.append(current) }
        return groups
    }

    /// Opens checkpoint `baseName` in `directory`: the index and its shards if the index exists,
    /// else the single file.
    public static func read(directory: URL, baseName: String = "model") throws
        -> SafetensorsCollection
    {
        let fileManager = FileManager.default
        let indexURL = directory.appendingPathComponent(indexFileName(baseName: baseName))
        let singleURL = directory.appendingPathComponent("\(baseName).safetensors")
        if fileManager.fileExists(atPath: indexURL.path) {
            return try readIndexed(indexURL: indexURL)
        }
        if fileManager.fileExists(atPath: singleURL.path) {
            return try SafetensorsCollection(files: [SafetensorsFile(url: singleURL)])
        }
        throw SafetensorsError.checkpointNotFound(directory: directory.path, baseName: baseName)
    }

    private static func readIndexed(indexURL: URL) throws -> SafetensorsCollection {
        let indexName = indexURL.lastPathComponent
        let weightMap = try parseWeightMap(indexURL)
        let directory = indexURL.deletingLastPathComponent()
        var files: [SafetensorsFile] = []
        for shard in Set(weightMap.values).sorted() {
            let url = directory.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw SafetensorsError.missingShard(index: indexName, shard: shard)
            }
            files.append(try SafetensorsFile(url: url))
        }
        let collection = try SafetensorsCollection(files: files)
        // The index and the shards must agree in both directions.
        for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key }) {
            guard let actual = collection.fileName(of: tensor) else {
                throw SafetensorsError.indexMismatch(
                    index: indexName, tensor: tensor, reason: "listed in '\(shard)' but not there")
            }
            guard actual == shard else {
                throw SafetensorsError.indexMismatch(
                    index: indexName, tensor: tensor,
                    reason: "listed in '\(shard)' but stored in '\(actual)'")
            }
        }
        for tensor in collection.names where weightMap[tensor] == nil {
            throw SafetensorsError.indexMismatch(
                index: indexName, tensor: tensor,
                reason:
                    "stored in '\(collection.fileName(of: tensor) ?? "?")' but not in weight_map")
        }
        return collection
    }

    private static func parseWeightMap(_ indexURL: URL) throws -> [String: String] {
        let indexName = indexURL.lastPathComponent
        let data: Data
        do {
            data = try Data(contentsOf: indexURL)
        } catch {
            throw SafetensorsError.io(file: indexName, reason: "cannot read: \(error)")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SafetensorsError.invalidIndex(file: indexName, reason: "not a JSON object")
        }
        guard let weightMap = root["weight_map"] as? [String: String] else {
            throw SafetensorsError.invalidIndex(
                file: indexName, reason: "missing or malformed 'weight_map' (name -> file)")
        }
        for shard in Set(weightMap.values) where shard.contains("/") || shard.hasPrefix(".") {
            // Shards must sit next to the index; refuse paths that escape the directory.
            throw SafetensorsError.invalidIndex(
                file: indexName, reason: "shard '\(shard)' is not a plain file name")
        }
        return weightMap
    }
}

// MARK: - Collection

/// The tensors of one or more safetensors files seen as one checkpoint.
public struct SafetensorsCollection: Sendable {
    /// The files, in shard order.
    public let files: [SafetensorsFile]
    /// Every tensor by name, across all files.
    public let tensors: [String: SafetensorsTensorInfo]
    /// All tensor names: file by file, each in data order.
    public let names: [String]
    /// Merged `__metadata__` of all files (the first file wins on conflicting keys).
    public let metadata: [String: String]
    /// For each tensor, the index of its file in `files`.
    private let fileIndex: [String: Int]

    /// Merges `files`; a tensor present in two files is an error.
    public init(files: [SafetensorsFile]) throws {
        var tensors: [String: SafetensorsTensorInfo] = [:]
        var fileIndex: [String: Int] = [:]
        var names: [String] = []
        var metadata: [String: String] = [:]
        for (index, file) in files.enumerated() {
            for name in file.names {
                if let first = fileIndex[name] {
                    throw SafetensorsError.duplicateTensor(
                        tensor: name, firstFile: files[first].fileName, secondFile: file.fileName)
                }
                fileIndex[name] = index
                tensors[name] = file.tensors[name]
                names.append(name)
            }
            metadata.merge(file.metadata) { first, _ in first }
        }
        self.files = files
        self.tensors = tensors
        self.names = names
        self.metadata = metadata
        self.fileIndex = fileIndex
    }

    /// The file name holding tensor `name`, or nil.
    public func fileName(of name: String) -> String? {
        fileIndex[name].map { files[$0].fileName }
    }

    /// The file holding tensor `name`.
    public func file(containing name: String) throws -> SafetensorsFile {
        guard let index = fileIndex[name] else {
            throw SafetensorsError.tensorNotFound(
                file: files.map(\.fileName).joined(separator: "+"), tensor: name)
        }
        return files[index]
    }

    /// The elements of tensor `name` converted to `Float`.
    public func floats(_ name: String) throws -> [Float] { try file(containing: name).floats(name) }

    /// The elements of tensor `name` as `Int32`.
    public func int32s(_ name: String) throws -> [Int32] { try file(containing: name).int32s(name) }

    /// A copy of the raw bytes of tensor `name`.
    public func bytes(_ name: String) throws -> Data { try file(containing: name).bytes(name) }

    /// Tensor `name` as an fp32 `Tensor`.
    public func tensor(_ name: String) throws -> Tensor { try file(containing: name).tensor(name) }
}
