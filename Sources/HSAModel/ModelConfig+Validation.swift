import Foundation
import HSACore

/// Why a model configuration was rejected.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case unknownPreset(String)
    case unknownFields(file: String, fields: [String])
    case invalid(field: String, reason: String)
    case unreadable(file: String, reason: String)
    /// The parameter count (nil: beyond `Int`) exceeds `limit`.
    case tooManyParameters(count: Int?, limit: Int)
    /// An error of the config file `file`.
    indirect case inFile(file: String, error: ConfigError)

    public var description: String {
        switch self {
        case .unknownPreset(let name):
            return "unknown preset '\(name)'; hint: use one of "
                + ModelConfig.presetNames.joined(separator: ", ")
        case .unknownFields(let file, let fields):
            return "\(file): unknown config field(s) \(fields.joined(separator: ", ")); "
                + "hint: check the spelling against MODEL.md's config fields"
        case .invalid(let field, let reason):
            return "config field '\(field)': \(reason)"
        case .unreadable(let file, let reason):
            return "\(file): \(reason)"
        case .tooManyParameters(let count, let limit):
            return "the model has \(count.map(String.init) ?? "more than Int.max") parameters, "
                + "more than the limit of \(limit); hint: lower d_model, d_ff, the layer counts "
                + "or vocab_size"
        case .inFile(let file, let error):
            return "\(file): \(error)"
        }
    }
}

extension ModelConfig {
    /// Rejects out-of-range and inconsistent values with an error naming the field (sizes
    /// first, against `ModelLimits`, so nothing later computes with an absurd size).
    public func validate() throws {
        func require(_ ok: Bool, _ field: String, _ reason: @autoclosure () -> String) throws {
            if !ok { throw ConfigError.invalid(field: field, reason: reason()) }
        }
        try checkSizes()
        try require(
            nHeads % nKvHeads == 0, "n_kv_heads", "must divide n_heads (\(nHeads)), got \(nKvHeads)"
        )
        try require(headDim % 2 == 0, "head_dim", "must be even, got \(headDim)")
        if usesMamba2 {
            try require(
                mambaInnerDim % mambaHeadDim == 0, "mamba_head_dim",
                "must divide mamba_expand × d_model (\(mambaInnerDim)), got \(mambaHeadDim)")
            try require(
                mambaHeads % mambaGroups == 0, "mamba_groups",
                "must divide the Mamba2 heads (\(mambaHeads)), got \(mambaGroups)")
        }
        guard usesHSA else { return }
        try require(
            !hsaLayers.isEmpty, "hsa_layers", "attention 'hsa' needs at least one HSA layer")
        for j in hsaLayers {
            try require(
                (0..<nUpperLayers).contains(j), "hsa_layers",
                "layer \(j) is not an upper layer (0..<\(nUpperLayers))")
        }
        try require(
            Set(hsaLayers).count == hsaLayers.count, "hsa_layers", "contains duplicates")
        try require(
            resolvedRetrievalDim > 0 && resolvedRetrievalDim % nKvHeads == 0, "retrieval_dim",
            "must be a positive multiple of n_kv_heads (\(nKvHeads)), got \(resolvedRetrievalDim)")
        if !separateRetrievalQuery {
            try require(
                retrievalHeadDim == headDim, "retrieval_dim",
                "without separate_retrieval_query, retrieval_dim / n_kv_heads must equal head_dim "
                    + "(\(headDim)), got \(retrievalHeadDim)")
        }
        if encoderLayers == 0 {
            try require(
                landmark == .mean, "landmark",
                "'\(landmark.rawValue)' needs encoder_layers > 0; hint: use landmark 'mean'")
            try require(
                chunkKv == .identity, "chunk_kv",
                "'\(chunkKv.rawValue)' needs encoder_layers > 0; hint: use chunk_kv 'identity'")
        }
    }

    /// Reads and validates `config.json`, rejecting unknown fields by name.
    public static func load(from url: URL) throws -> ModelConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError.unreadable(
                file: url.path, reason: "cannot read (\(fileErrorReason(error)))")
        }
        return try decode(data, source: url.path)
    }

    /// Decodes and validates a JSON config; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws -> ModelConfig {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw ConfigError.unreadable(file: source, reason: "not valid JSON (\(error))")
        }
        guard let given = object as? [String: Any] else {
            throw ConfigError.unreadable(file: source, reason: "expected a JSON object")
        }
        let fields = withDefaultsForAddedFields(given)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        let unknown = fields.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty { throw ConfigError.unknownFields(file: source, fields: unknown) }
        if let (field, number) = firstNonInteger(in: fields) {
            throw ConfigError.inFile(
                file: source,
                error: .invalid(field: field, reason: "must be an integer, got \(number)"))
        }
        let config: ModelConfig
        do {
            let completed =
                fields.count == given.count
                ? data : try JSONSerialization.data(withJSONObject: fields)
            config = try JSONDecoder().decode(ModelConfig.self, from: completed)
        } catch let error
            as DecodingError
        {
            throw ConfigError.unreadable(file: source, reason: describe(error))
        }
        do { try config.validate() } catch let error as ConfigError {
            throw ConfigError.inFile(file: source, error: error)
        }
        return config
    }

    /// The config as pretty, key-sorted JSON.
    public func encoded() throws -> Data {
        try JSONEncoder.sortedPretty().encode(self)
    }
}

/// The integer fields of config.json.
private let integerFields = [
    "vocab_size", "d_model", "n_lower_layers", "n_upper_layers", "n_heads", "n_kv_heads",
    "head_dim", "d_ff", "window", "chunk_size", "encoder_layers", "top_k", "max_train_len",
    "retrieval_dim", "landmark_block", "mamba_state_dim", "mamba_head_dim", "mamba_expand",
    "mamba_groups", "mamba_conv_kernel", "mamba_chunk_length",
]

/// The first integer field holding a number that is not an integer an `Int` holds (1.5,
/// 1e30), with that number. Checked before decoding: JSONDecoder reports these as "not valid
/// JSON" without naming the field.
private func firstNonInteger(in fields: [String: Any]) -> (String, String)? {
    for field in integerFields {
        guard let number = fields[field] as? NSNumber else { continue }
        // An integer in Int's range prints as its digits; anything else does not parse back.
        if Int(number.stringValue) == nil { return (field, number.stringValue) }
    }
    if let layers = fields["hsa_layers"] as? [Any] {
        for case let number as NSNumber in layers where Int(number.stringValue) == nil {
            return ("hsa_layers", number.stringValue)
        }
    }
    return nil
}

/// A one-line account of a decoding error that names the field.
private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, _):
        return "missing config field '\(key.stringValue)'"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return "config field '\(path(context))': \(context.debugDescription)"
    case .dataCorrupted(let context) where context.codingPath.isEmpty:
        return context.debugDescription
    case .dataCorrupted(let context):
        return "config field '\(path(context))': \(context.debugDescription)"
    @unknown default:
        return "\(error)"
    }
}
