import HSACore

/// Typed views of one decoder (or encoder) layer's tensors in a `ParameterStore`.
/// The same struct views parameters or their gradients, since both share one layout.
public struct DecoderLayerWeights: @unchecked Sendable {
    public let attentionNorm: Tensor  // (C)
    public let query: Tensor  // (NH*HS, C)
    public let key: Tensor  // (NKV*HS, C)
    public let value: Tensor  // (NKV*HS, C)
    public let queryBias: Tensor?  // (NH*HS), encoder only
    public let keyBias: Tensor?  // (NKV*HS), encoder only
    public let valueBias: Tensor?  // (NKV*HS), encoder only
    public let output: Tensor  // (C, NH*HS)
    public let queryNorm: Tensor?  // (HS), with qk_norm
    public let keyNorm: Tensor?  // (HS), with qk_norm
    public let mlpNorm: Tensor  // (C)
    public let gate: Tensor  // (F, C)
    public let up: Tensor  // (F, C)
    public let down: Tensor  // (C, F)

    init(_ store: ParameterStore, prefix: String) {
        attentionNorm = store.tensor("\(prefix).attn_norm.weight")
        query = store.tensor("\(prefix).attn.q_proj.weight")
        key = store.tensor("\(prefix).attn.k_proj.weight")
        value = store.tensor("\(prefix).attn.v_proj.weight")
        queryBias = store.optionalTensor("\(prefix).attn.q_proj.bias")
        keyBias = store.optionalTensor("\(prefix).attn.k_proj.bias")
        valueBias = store.optionalTensor("\(prefix).attn.v_proj.bias")
        output = store.tensor("\(prefix).attn.o_proj.weight")
        queryNorm = store.optionalTensor("\(prefix).attn.q_norm.weight")
        keyNorm = store.optionalTensor("\(prefix).attn.k_norm.weight")
        mlpNorm = store.tensor("\(prefix).mlp_norm.weight")
        gate = store.tensor("\(prefix).mlp.gate_proj.weight")
        up = store.tensor("\(prefix).mlp.up_proj.weight")
        down = store.tensor("\(prefix).mlp.down_proj.weight")
    }
}

/// The tensors `MLPSublayer` reads: a decoder layer's or a Mamba2 layer's.
protocol MLPSublayerWeights {
    var mlpNorm: Tensor { get }  // (C)
    var gate: Tensor { get }  // (F, C)
    var up: Tensor { get }  // (F, C)
    var down: Tensor { get }  // (C, F)
}

extension DecoderLayerWeights: MLPSublayerWeights {}

/// Typed views of one `mixer: mamba2` layer's tensors (E inner width, H heads, G groups, N state
/// size, K conv kernel; ModelConfig's mamba_* fields).
public struct Mamba2LayerWeights: MLPSublayerWeights, @unchecked Sendable {
    public let mixerNorm: Tensor  // (C)
    public let inProj: Tensor  // (2E + 2GN + H, C)
    public let convWeight: Tensor  // (E + 2GN, K)
    public let convBias: Tensor  // (E + 2GN)
    public let dtBias: Tensor  // (H)
    public let aLog: Tensor  // (H)
    public let d: Tensor  // (H)
    public let norm: Tensor  // (E) the gated RMSNorm's weight
    public let outProj: Tensor  // (C, E)
    public let mlpNorm: Tensor  // (C)
    public let gate: Tensor  // (F, C)
    public let up: Tensor  // (F, C)
    public let down: Tensor  // (C, F)

    init(_ store: ParameterStore, prefix: String) {
        mixerNorm = store.tensor("\(prefix).mixer_norm.weight")
        inProj = store.tensor("\(prefix).mixer.in_proj.weight")
        convWeight = store.tensor("\(prefix).mixer.conv1d.weight")
        convBias = store.tensor("\(prefix).mixer.conv1d.bias")
        dtBias = store.tensor("\(prefix).mixer.dt_bias")
        aLog = store.tensor("\(prefix).mixer.A_log")
        d = store.tensor("\(prefix).mixer.D")
        norm = store.tensor("\(prefix).mixer.norm.weight")
        outProj = store.tensor("\(prefix).mixer.out_proj.weight")
        mlpNorm = store.tensor("\(prefix).mlp_norm.weight")
        gate = store.tensor("\(prefix).mlp.gate_proj.weight")
        up = store.tensor("\(prefix).mlp.up_proj.weight")
        down = store.tensor("\(prefix).mlp.down_proj.weight")
    }
}

/// Views of an upper layer's HSA sublayer.
public struct HSAWeights: @unchecked Sendable {
    public let norm: Tensor  // (C)
    public let retrievalQuery: Tensor?  // (NKV*DR, C), with separate_retrieval_query
    public let query: Tensor  // (NH*HS, C)
    public let output: Tensor  // (C, NH*HS)
    public let queryNorm: Tensor?  // (HS)
    public let keyNorm: Tensor?  // (HS)

    init(_ store: ParameterStore, prefix: String) {
        norm = store.tensor("\(prefix).norm.weight")
        retrievalQuery = store.optionalTensor("\(prefix).q_slc_proj.weight")
        query = store.tensor("\(prefix).q_proj.weight")
        output = store.tensor("\(prefix).o_proj.weight")
        queryNorm = store.optionalTensor("\(prefix).q_norm.weight")
        keyNorm = store.optionalTensor("\(prefix).k_norm.weight")
    }
}

/// Views of the chunk encoder and the chunk-memory projections.
public struct EncoderWeights: @unchecked Sendable {
    public let cls: Tensor?  // (C), landmark cls only
    public let layers: [DecoderLayerWeights]
    public let norm: Tensor  // (C)
    public let landmark: Tensor  // (NKV*DR, C)
    public let key: Tensor  // (NKV*HS, C)
    public let value: Tensor  // (NKV*HS, C)

    init(_ store: ParameterStore, config: ModelConfig) {
        cls = store.optionalTensor("encoder.cls")
        layers =
            config.hasEncoder
            ? (0..<config.encoderLayers).map {
                DecoderLayerWeights(store, prefix: "encoder.layers.\($0)")
            } : []
        norm = store.tensor("encoder.norm.weight")
        landmark = store.tensor("encoder.landmark_proj.weight")
        key = store.tensor("encoder.k_proj.weight")
        value = store.tensor("encoder.v_proj.weight")
    }
}

/// Typed views of every tensor of the model in one `ParameterStore`.
public struct ModelWeights: @unchecked Sendable {
    public let embedding: Tensor  // (V, C)
    /// (V + 1, C): the embedding with the landmark row after it (`attention: landmark` only).
    public let embeddingWithLandmark: Tensor?
    public let lower: [DecoderLayerWeights]
    public let encoder: EncoderWeights?
    public let upper: [DecoderLayerWeights]
    /// With `mixer: mamba2`: every layer, lower then upper (`lower` and `upper` are empty).
    public let mamba2: [Mamba2LayerWeights]
    /// HSA sublayers by upper-layer index.
    public let hsa: [Int: HSAWeights]
    public let finalNorm: Tensor  // (C)
    /// (V, C): `lm_head.weight`, or the embedding when tied.
    public let head: Tensor

    public init(_ store: ParameterStore, config: ModelConfig) {
        embedding = store.tensor("embed.weight")
        embeddingWithLandmark = LandmarkRows.extendedTable(store, config: config)
        let mamba2 = config.usesMamba2
        lower =
            mamba2
            ? []
            : (0..<config.nLowerLayers).map { DecoderLayerWeights(store, prefix: "lower.\($0)") }
        encoder = config.usesHSA ? EncoderWeights(store, config: config) : nil
        upper =
            mamba2
            ? []
            : (0..<config.nUpperLayers).map { DecoderLayerWeights(store, prefix: "upper.\($0)") }
        self.mamba2 =
            mamba2
            ? (0..<config.nLowerLayers).map { Mamba2LayerWeights(store, prefix: "lower.\($0)") }
                + (0..<config.nUpperLayers).map { Mamba2LayerWeights(store, prefix: "upper.\($0)") }
            : []
        var hsa: [Int: HSAWeights] = [:]
        for j in 0..<config.nUpperLayers where config.isHSALayer(j) {
            hsa[j] = HSAWeights(store, prefix: "upper.\(j).hsa")
        }
        self.hsa = hsa
        finalNorm = store.tensor("norm.weight")
        head = store.optionalTensor("lm_head.weight") ?? embedding
    }
}
