import ArgumentParser
import Foundation
import HSA

/// Chooses a model config: a preset or a config.json, then any field overridden by a flag.
struct ModelOptions: ParsableArguments {
    @Option(help: "Preset: tiny, small or paper (default: tiny).")
    var preset: String?
    @Option(help: "A config.json to start from instead of a preset.")
    var config: String?

    @Option var dModel: Int?
    @Option var nLowerLayers: Int?
    @Option var nUpperLayers: Int?
    @Option(help: "Comma-separated upper-layer indices with HSA, e.g. 0,2.")
    var hsaLayers: String?
    @Option var nHeads: Int?
    @Option var nKvHeads: Int?
    @Option var headDim: Int?
    @Option var dFf: Int?
    @Option var window: Int?
    @Option var ropeTheta: Double?
    @Option var chunkSize: Int?
    @Option var encoderLayers: Int?
    @Option var topK: Int?
    @Option(help: "cls, encoder_mean or mean.")
    var landmark: String?
    @Option(help: "encoder or identity.")
    var chunkKv: String?
    @Option(help: "stick_breaking, softmax or joint.")
    var fusion: String?
    @Option(help: "per_token or per_chunk.")
    var retrieval: String?
    @Option(help: "bypass or sequential.")
    var residual: String?
    @Option(help: "true or false.")
    var separateRetrievalQuery: Bool?
    @Option(help: "true or false.")
    var qkNorm: Bool?
    @Option(help: "hsa, swa or full.")
    var attention: String?
    @Option(help: "true or false.")
    var tieEmbeddings: Bool?
    @Option var maxTrainLen: Int?
    @Option var retrievalDim: Int?
    @Option(help: "Token ids the model knows (hsa train: default the data's tokenizer's).")
    var vocabSize: Int?

    /// The preset the config starts from when neither `--config` nor `--preset` is given.
    static let defaultPreset = "tiny"

    /// The preset named, or the default one (for reports).
    var presetName: String { preset ?? Self.defaultPreset }

    /// The resolved, validated config: `--config` or `--preset` if given, else `base` (else
    /// the default preset), with every field flag given on top.
    func resolve(over base: ModelConfig? = nil) throws -> ModelConfig {
        var c: ModelConfig
        if let config {
            c = try ModelConfig.load(from: URL(fileURLWithPath: config))
        } else if let preset {
            c = try ModelConfig.preset(named: preset)
        } else if let base {
            c = base
        } else {
            c = try ModelConfig.preset(named: Self.defaultPreset)
        }
        func parse<E: RawRepresentable>(_ text: String?, _ field: String) throws -> E?
        where E.RawValue == String {
            guard let text else { return nil }
            guard let value = E(rawValue: text) else {
                throw ConfigError.invalid(field: field, reason: "unknown value '\(text)'")
            }
            return value
        }
        if let v = dModel { c.dModel = v }
        if let v = nLowerLayers { c.nLowerLayers = v }
        if let v = nUpperLayers { c.nUpperLayers = v }
        if let v = hsaLayers {
            let parts = v.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.allSatisfy({ $0 != nil }) else {
                throw ConfigError.invalid(
                    field: "hsa_layers", reason: "expected integers, got '\(v)'")
            }
            c.hsaLayers = parts.compactMap { $0 }
        }
        if let v = nHeads { c.nHeads = v }
        if let v = nKvHeads { c.nKvHeads = v }
        if let v = headDim { c.headDim = v }
        if let v = dFf { c.dFf = v }
        if let v = window { c.window = v }
        if let v = ropeTheta { c.ropeTheta = v }
        if let v = chunkSize { c.chunkSize = v }
        if let v = encoderLayers { c.encoderLayers = v }
        if let v = topK { c.topK = v }
        if let v: LandmarkKind = try parse(landmark, "landmark") { c.landmark = v }
        if let v: ChunkKVKind = try parse(chunkKv, "chunk_kv") { c.chunkKv = v }
        if let v: FusionKind = try parse(fusion, "fusion") { c.fusion = v }
        if let v: RetrievalGranularity = try parse(retrieval, "retrieval") { c.retrieval = v }
        if let v: ResidualKind = try parse(residual, "residual") { c.residual = v }
        if let v = separateRetrievalQuery { c.separateRetrievalQuery = v }
        if let v = qkNorm { c.qkNorm = v }
        if let v: AttentionKind = try parse(attention, "attention") { c.attention = v }
        if let v = tieEmbeddings { c.tieEmbeddings = v }
        if let v = maxTrainLen { c.maxTrainLen = v }
        if let v = retrievalDim { c.retrievalDim = v }
        if let v = vocabSize { c.vocabSize = v }
        try c.validate()
        return c
    }
}
