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
    @Option(
        help: """
            hsa, swa, full or landmark (the Landmark Attention baseline: a learned landmark \
            after every --landmark-block tokens; CPU only for now, training and streaming \
            inference).
            """)
    var attention: String?
    @Option(help: "Tokens per landmark block of --attention landmark (default 63).")
    var landmarkBlock: Int?
    @Option(help: "true or false: RoPE in --attention landmark (default false: NoPE).")
    var landmarkRope: Bool?
    @Option(
        help: """
            attention (default) or mamba2 (the Mamba2 baseline: a Mamba2 SSD mixer in every \
            layer, no attention or HSA; CPU training only for now).
            """)
    var mixer: String?
    @Option(help: "SSD state size N of --mixer mamba2 (default 64).")
    var mambaStateDim: Int?
    @Option(help: "SSD head size P of --mixer mamba2 (default 32).")
    var mambaHeadDim: Int?
    @Option(help: "Inner width factor of --mixer mamba2 (default 2).")
    var mambaExpand: Int?
    @Option(help: "Head groups sharing B and C in --mixer mamba2 (default 1).")
    var mambaGroups: Int?
    @Option(help: "Causal conv kernel width of --mixer mamba2 (default 4).")
    var mambaConvKernel: Int?
    @Option(help: "SSD scan chunk length of --mixer mamba2 (default 64).")
    var mambaChunkLength: Int?
    @Option(help: "true or false.")
    var tieEmbeddings: Bool?
    @Option var maxTrainLen: Int?
    @Option var retrievalDim: Int?
    @Option(help: "Token ids the model knows (hsa train: default the data's tokenizer's).")
    var vocabSize: Int?

    /// The preset named, or the default one (for reports).
    var presetName: String { preset ?? ModelConfigSource.defaultPreset }

    /// `--config` or `--preset`, or nil when neither is given.
    var source: ModelConfigSource? {
        config.map { .file(URL(fileURLWithPath: $0)) } ?? preset.map { .preset($0) }
    }

    /// The field flags given.
    var overrides: ModelConfigOverrides {
        var o = ModelConfigOverrides()
        o.dModel = dModel
        o.nLowerLayers = nLowerLayers
        o.nUpperLayers = nUpperLayers
        o.hsaLayers = hsaLayers
        o.nHeads = nHeads
        o.nKvHeads = nKvHeads
        o.headDim = headDim
        o.dFf = dFf
        o.window = window
        o.ropeTheta = ropeTheta
        o.chunkSize = chunkSize
        o.encoderLayers = encoderLayers
        o.topK = topK
        o.landmark = landmark
        o.chunkKv = chunkKv
        o.fusion = fusion
        o.retrieval = retrieval
        o.residual = residual
        o.separateRetrievalQuery = separateRetrievalQuery
        o.qkNorm = qkNorm
        o.attention = attention
        o.tieEmbeddings = tieEmbeddings
        o.maxTrainLen = maxTrainLen
        o.retrievalDim = retrievalDim
        o.vocabSize = vocabSize
        o.landmarkBlock = landmarkBlock
        o.landmarkRope = landmarkRope
        o.mixer = mixer
        o.mambaStateDim = mambaStateDim
        o.mambaHeadDim = mambaHeadDim
        o.mambaExpand = mambaExpand
        o.mambaGroups = mambaGroups
        o.mambaConvKernel = mambaConvKernel
        o.mambaChunkLength = mambaChunkLength
        return o
    }

    /// The resolved, validated config: `--config` or `--preset` if given, else the default
    /// preset, with every field flag given on top.
    func resolve() throws -> ModelConfig {
        try overrides.applied(to: (source ?? .default).load())
    }
}
