import Foundation
import HSACore

/// Model config fields set one by one on top of a preset or a config.json (the model flags of
/// `hsa train`, `inspect` and `bench`); nil leaves a field as it is. Enumerations and
/// `hsa_layers` come as text and are checked when applied.
public struct ModelConfigOverrides: Sendable, Equatable {
    public var dModel: Int?
    public var nLowerLayers: Int?
    public var nUpperLayers: Int?
    /// Comma-separated upper-layer indices, e.g. "0,2".
    public var hsaLayers: String?
    public var nHeads: Int?
    public var nKvHeads: Int?
    public var headDim: Int?
    public var dFf: Int?
    public var window: Int?
    public var ropeTheta: Double?
    public var chunkSize: Int?
    public var encoderLayers: Int?
    public var topK: Int?
    /// A `LandmarkKind` raw value.
    public var landmark: String?
    /// A `ChunkKVKind` raw value.
    public var chunkKv: String?
    /// A `FusionKind` raw value.
    public var fusion: String?
    /// A `RetrievalGranularity` raw value.
    public var retrieval: String?
    /// A `ResidualKind` raw value.
    public var residual: String?
    public var separateRetrievalQuery: Bool?
    public var qkNorm: Bool?
    /// An `AttentionKind` raw value.
    public var attention: String?
    public var tieEmbeddings: Bool?
    public var maxTrainLen: Int?
    public var retrievalDim: Int?
    public var vocabSize: Int?
    public var landmarkBlock: Int?
    public var landmarkRope: Bool?
    /// `attention` or `mamba2`.
    public var mixer: String?
    public var mambaStateDim: Int?
    public var mambaHeadDim: Int?
    public var mambaExpand: Int?
    public var mambaGroups: Int?
    public var mambaConvKernel: Int?
    public var mambaChunkLength: Int?

    /// No field set.
    public init() {}

    /// `config` with every given field set, validated.
    /// - Throws: ``ConfigError/invalid(field:reason:)`` for an unknown enumeration value or
    ///   `hsa_layers` that are not integers; what `ModelConfig.validate()` throws.
    public func applied(to config: ModelConfig) throws -> ModelConfig {
        var c = config
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
        if let v = landmarkBlock { c.landmarkBlock = v }
        if let v = landmarkRope { c.landmarkRope = v }
        if let v: MixerKind = try parse(mixer, "mixer") { c.mixer = v }
        if let v = mambaStateDim { c.mambaStateDim = v }
        if let v = mambaHeadDim { c.mambaHeadDim = v }
        if let v = mambaExpand { c.mambaExpand = v }
        if let v = mambaGroups { c.mambaGroups = v }
        if let v = mambaConvKernel { c.mambaConvKernel = v }
        if let v = mambaChunkLength { c.mambaChunkLength = v }
        try c.validate()
        return c
    }
}
