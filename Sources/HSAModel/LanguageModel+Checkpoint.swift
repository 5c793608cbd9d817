import Foundation
import HSACore

/// Why a model checkpoint could not be loaded.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case missingTensor(file: String, name: String)
    case unexpectedTensor(file: String, name: String)
    case shapeMismatch(file: String, name: String, expected: [Int], actual: [Int])
    case invalid(file: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): not found; hint: a checkpoint directory holds config.json and "
                + "model.safetensors (or its shards and index)"
        case .missingTensor(let file, let name):
            return "\(file): tensor '\(name)' is missing; hint: was it saved with another config?"
        case .unexpectedTensor(let file, let name):
            return "\(file): tensor '\(name)' does not belong to this config"
        case .shapeMismatch(let file, let name, let expected, let actual):
            return "\(file): tensor '\(name)' has shape \(actual), config needs \(expected)"
        case .invalid(let file, let reason):
            return "\(file): \(reason)"
        }
    }
}

extension ParameterStore {
    /// One safetensors entry per parameter (F32 by default), in layout order, with `prefix` on
    /// each name.
    public func safetensorsEntries(prefix: String = "", dtype: SafetensorsDType = .f32)
        -> [SafetensorsEntry]
    {
        storage.synchronize()  // the entries are read on the host
        return layout.specs.map {
            SafetensorsEntry(name: prefix + $0.name, tensor: tensor($0.name), dtype: dtype)
        }
    }

    /// The parameters in int8 storage (`Int8Weights`): matrices as I8 with row scales.
    public func int8SafetensorsEntries() -> [SafetensorsEntry] {
        storage.synchronize()
        return layout.specs.flatMap {
            Int8Weights.entries(name: $0.name, shape: $0.shape, values: tensor($0.name).toArray())
        }
    }

    /// Fills every parameter from `collection` (names with `prefix`), which must hold exactly
    /// this layout's tensors with matching shapes. With `skippingUnused`, tensors the layout
    /// does not have are skipped instead of rejected (initializing an ablation that drops a
    /// part, e.g. `--attention swa` from an HSA model); their names are returned, sorted.
    @discardableResult
    public func load(
        from collection: SafetensorsCollection, prefix: String = "", source: String,
        skippingUnused: Bool = false
    ) throws -> [String] {
        var expected = Set<String>()
        storage.synchronize()  // host writes below; device ops on the arena must be done
        for spec in layout.specs {
            let name = prefix + spec.name
            expected.insert(name)
            guard let info = collection.tensors[name] else {
                throw CheckpointError.missingTensor(file: source, name: name)
            }
            guard info.shape == spec.shape else {
                throw CheckpointError.shapeMismatch(
                    file: source, name: name, expected: spec.shape, actual: info.shape)
            }
            let values =
                info.dtype == .i8
                ? try Int8Weights.dequantize(name, from: collection)
                : try collection.floats(name)
            _ = tensor(spec.name).buffer.update(fromContentsOf: values)
            if info.dtype == .i8 { expected.insert(name + Int8Weights.scaleSuffix) }
        }
        let unused = collection.names.filter { $0.hasPrefix(prefix) && !expected.contains($0) }
        if let name = unused.first, !skippingUnused {
            throw CheckpointError.unexpectedTensor(file: source, name: name)
        }
        return unused.sorted()
    }
}

extension LanguageModel {
    /// Writes `config.json` and `model.safetensors` (or shards of at most `maxShardBytes`)
    /// into `directory`, creating it. Weights are stored as `dtype` (`.bf16` halves the file,
    /// `.i8` is `Int8Weights`' storage; loading converts back to fp32).
    public func save(
        to directory: URL, maxShardBytes: Int? = nil, dtype: SafetensorsDType = .f32
    ) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.write(config.encoded(), to: directory.appendingPathComponent("config.json"))
        try SafetensorsShards.write(
            dtype == .i8
                ? parameters.int8SafetensorsEntries() : parameters.safetensorsEntries(dtype: dtype),
            metadata: ["format": "pt", "producer": "hsa"],
            directory: directory, baseName: "model", maxShardBytes: maxShardBytes)
    }

    /// Loads `config.json` and the model weights from a checkpoint directory. `adjust` may
    /// change settings that leave the weights' shapes alone before the model is built (e.g.
    /// `yarn`, to extend RoPE attention for evaluation beyond the training length).
    public static func load(
        from directory: URL, adjusting adjust: (inout ModelConfig) -> Void = { _ in }
    ) throws -> LanguageModel {
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw CheckpointError.missingFile(configURL.path)
        }
        var config = try ModelConfig.load(from: configURL)
        adjust(&config)
        let model = LanguageModel(config: config)
        let collection = try SafetensorsShards.read(directory: directory, baseName: "model")
        try model.parameters.load(from: collection, source: directory.path)
        return model
    }
}
