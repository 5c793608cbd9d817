import Foundation
import HSACore
import HSAModel

/// Which model a document memory was built with: its config and the SHA-256 of each of its
/// weights files. Two checkpoints are the same model when both agree (where they lie does not
/// matter), so a memory is never read by a model whose keys and landmarks differ from the ones
/// that made it.
public struct ModelIdentity: Codable, Sendable {
    /// One weights file of the checkpoint.
    public struct WeightsFile: Codable, Equatable, Sendable {
        /// File name inside the checkpoint directory.
        public let name: String
        /// Size in bytes.
        public let bytes: Int
        /// Lowercase hex SHA-256 of its contents.
        public let sha256: String
    }

    /// The model's config.
    public let config: ModelConfig
    /// Its weights files (one, or the shards), by name.
    public let weights: [WeightsFile]
    /// The checkpoint directory it was read from, as an absolute path: where `hsa ask` loads
    /// the model when none is given. Not part of the identity.
    public let checkpoint: String

    /// The identity of the checkpoint in `directory`: its config.json and its weights files
    /// (model.safetensors, or the shards its index names), hashed in full.
    public init(checkpoint directory: URL) throws {
        config = try ModelConfig.load(from: directory.appendingPathComponent("config.json"))
        let files = try SafetensorsShards.read(directory: directory).files.compactMap(\.url)
        weights = try files.sorted { $0.lastPathComponent < $1.lastPathComponent }.map { url in
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return WeightsFile(
                name: url.lastPathComponent,
                bytes: (attributes[.size] as? NSNumber)?.intValue ?? 0,
                sha256: try SHA256.fileHex(at: url))
        }
        checkpoint = directory.standardizedFileURL.path
    }

    /// How two identities differ: `what` has the value `mine` in one, `theirs` in the other.
    public struct Difference: Equatable, Sendable {
        /// The field or file that differs.
        public let what: String
        /// Its value in the identity asked.
        public let mine: String
        /// Its value in the other.
        public let theirs: String
    }

    /// Nil when `other` is the same model; else the first difference (the first config field
    /// in key order, else the first weights file).
    public func difference(from other: ModelIdentity) -> Difference? {
        if config != other.config {
            return Self.firstDifference(config, other.config)
                ?? Difference(what: "config", mine: "one", theirs: "another")
        }
        for (mine, theirs) in zip(weights, other.weights) where mine != theirs {
            return Difference(
                what: "weights file \(mine.name)",
                mine: mine.name == theirs.name ? "SHA-256 \(mine.sha256.prefix(12))…" : mine.name,
                theirs: mine.name == theirs.name
                    ? "SHA-256 \(theirs.sha256.prefix(12))…" : theirs.name)
        }
        guard weights.count == other.weights.count else {
            return Difference(
                what: "weights", mine: "\(weights.count) files", theirs: "\(other.weights.count)")
        }
        return nil
    }

    /// The first config.json field (in key order) whose values differ.
    private static func firstDifference(_ a: ModelConfig, _ b: ModelConfig) -> Difference? {
        func fields(_ config: ModelConfig) -> [String: Any] {
            guard let data = try? config.encoded(),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return [:] }
            return object
        }
        // Values as compact JSON: one line, also for lists (hsa_layers [0,2]).
        func text(_ value: Any?) -> String {
            guard let value,
                let data = try? JSONSerialization.data(
                    withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
            else { return "absent" }
            return String(decoding: data, as: UTF8.self)
        }
        let (mine, theirs) = (fields(a), fields(b))
        for key in Set(mine.keys).union(theirs.keys).sorted() {
            let (here, there) = (text(mine[key]), text(theirs[key]))
            if here != there { return Difference(what: key, mine: here, theirs: there) }
        }
        return nil
    }
}
