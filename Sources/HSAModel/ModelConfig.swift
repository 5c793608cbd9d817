import Foundation
import HSACPU

/// How a chunk's landmark (its retrieval key) is computed.
public enum LandmarkKind: String, Codable, Sendable, CaseIterable {
    /// The chunk encoder's output at the learned CLS position.
    case cls
    /// The mean of the chunk encoder's token outputs (no CLS token).
    case encoderMean = "encoder_mean"
    /// The mean of the normalised raw chunk rows (no encoder needed).
    case mean
}

/// Where a chunk's keys and values come from.
public enum ChunkKVKind: String, Codable, Sendable, CaseIterable {
    /// The chunk encoder's token outputs.
    case encoder
    /// The normalised raw chunk rows.
    case identity
}

/// How retrieved content reaches the residual stream of an HSA layer.
public enum ResidualKind: String, Codable, Sendable, CaseIterable {
    /// Retrieved content enters only through the MLP input (the paper's Eq. 6b).
    case bypass
    /// Retrieved content is added to the residual stream before the MLP (Eq. 6a).
    case sequential
}

/// The attention of the whole model.
public enum AttentionKind: String, Codable, Sendable, CaseIterable {
    /// Sliding-window attention everywhere plus hierarchical sparse attention in `hsa_layers`.
    case hsa
    /// Sliding-window attention only.
    case swa
    /// Dense causal attention in every layer.
    case full
    /// Landmark Attention (Mohtashami & Jaggi 2023) in every layer: the model inserts a learned
    /// landmark row after every `landmark_block` tokens and each query reaches earlier blocks
    /// through their landmarks' keys (docs/MODEL-NOTES.md "Landmark Attention baseline").
    case landmark
}

/// What mixes tokens in every layer.
public enum MixerKind: String, Codable, Sendable, CaseIterable {
    /// Attention, as `attention` says (HSA, SWA, full or landmark).
    case attention
    /// A Mamba2 SSD mixer (Dao & Gu 2024) in every layer, lower and upper, with no attention,
    /// HSA or chunk memory: `attention` and its fields are unused (docs/MODEL-NOTES.md
    /// "Mamba2 baseline").
    case mamba2
}

/// The model's hyper-parameters, stored as `config.json` with the snake_case keys of MODEL.md.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int
    /// C, the residual width.
    public var dModel: Int
    /// LL, sliding-window layers below the chunk memory.
    public var nLowerLayers: Int
    /// LU, layers above it.
    public var nUpperLayers: Int
    /// Indices (0-based, among the upper layers) of the layers with HSA.
    public var hsaLayers: [Int]
    /// NH, query heads.
    public var nHeads: Int
    /// NKV, key/value heads (and retrieval groups).
    public var nKvHeads: Int
    /// HS, head size.
    public var headDim: Int
    /// F, MLP hidden width.
    public var dFf: Int
    /// W, sliding window in tokens.
    public var window: Int
    public var ropeTheta: Double
    /// S, tokens per chunk.
    public var chunkSize: Int
    /// E, chunk-encoder layers.
    public var encoderLayers: Int
    /// K, chunks retrieved per token and KV head.
    public var topK: Int
    public var landmark: LandmarkKind
    public var chunkKv: ChunkKVKind
    public var fusion: FusionKind
    public var retrieval: RetrievalGranularity
    public var residual: ResidualKind
    public var separateRetrievalQuery: Bool
    public var qkNorm: Bool
    public var attention: AttentionKind
    public var tieEmbeddings: Bool
    public var maxTrainLen: Int
    /// NKV * DR, the width of landmarks and retrieval queries; nil means `dModel`.
    public var retrievalDim: Int?
    /// S of `attention: landmark`: ordinary tokens per block, each block closed by one inserted
    /// landmark row. 63 makes a block with its landmark 64 rows, so blocks tile the expanded
    /// stream in power-of-two steps (what a GPU kernel's 64-row tiles want). Unused otherwise.
    public var landmarkBlock: Int = 63
    /// Whether `attention: landmark` rotates queries and keys with RoPE (as the original does).
    /// Off by default: NoPE, like the landmark baseline of the HSA paper's comparison, so only
    /// the landmarks order the context. Unused by the other attention kinds (always RoPE).
    public var landmarkRope: Bool = false
    /// What mixes tokens: `attention` (default) or `mamba2` (every layer a Mamba2 mixer).
    public var mixer: MixerKind = .attention
    /// N of `mixer: mamba2`: the SSD state size per head channel.
    public var mambaStateDim: Int = 64
    /// P of `mixer: mamba2`: channels per SSD head (H = E / P heads).
    public var mambaHeadDim: Int = 32
    /// E / C of `mixer: mamba2`: the inner width E = expand · d_model.
    public var mambaExpand: Int = 2
    /// G of `mixer: mamba2`: groups of heads sharing one B and C (and one gated-norm group).
    public var mambaGroups: Int = 1
    /// K of `mixer: mamba2`: the causal depthwise conv's kernel width.
    public var mambaConvKernel: Int = 4
    /// L of `mixer: mamba2`: the SSD scan's chunk length (results do not depend on it beyond
    /// fp32 rounding).
    public var mambaChunkLength: Int = 64
    /// YaRN context extension of every RoPE attention, set at evaluation (`hsa eval
    /// --yarn-factor`); not a trained knob, never written to config.json.
    public var yarn: YaRNScaling? = nil

    enum CodingKeys: String, CodingKey, CaseIterable {
        case vocabSize = "vocab_size"
        case dModel = "d_model"
        case nLowerLayers = "n_lower_layers"
        case nUpperLayers = "n_upper_layers"
        case hsaLayers = "hsa_layers"
        case nHeads = "n_heads"
        case nKvHeads = "n_kv_heads"
        case headDim = "head_dim"
        case dFf = "d_ff"
        case window
        case ropeTheta = "rope_theta"
        case chunkSize = "chunk_size"
        case encoderLayers = "encoder_layers"
        case topK = "top_k"
        case landmark
        case chunkKv = "chunk_kv"
        case fusion
        case retrieval
        case residual
        case separateRetrievalQuery = "separate_retrieval_query"
        case qkNorm = "qk_norm"
        case attention
        case tieEmbeddings = "tie_embeddings"
        case maxTrainLen = "max_train_len"
        case retrievalDim = "retrieval_dim"
        case landmarkBlock = "landmark_block"
        case landmarkRope = "landmark_rope"
        case mixer
        case mambaStateDim = "mamba_state_dim"
        case mambaHeadDim = "mamba_head_dim"
        case mambaExpand = "mamba_expand"
        case mambaGroups = "mamba_groups"
        case mambaConvKernel = "mamba_conv_kernel"
        case mambaChunkLength = "mamba_chunk_length"
    }

    // MARK: - Derived sizes

    /// NKV * DR.
    public var resolvedRetrievalDim: Int { retrievalDim ?? dModel }
    /// DR, retrieval width per KV head.
    public var retrievalHeadDim: Int { resolvedRetrievalDim / nKvHeads }
    /// RoPE's frequencies for this model (plain, or YaRN-scaled at evaluation).
    public var rotaryEmbedding: RotaryEmbedding { RotaryEmbedding(theta: ropeTheta, yarn: yarn) }
    /// Whether the model has a chunk memory and HSA sublayers.
    public var usesHSA: Bool { attention == .hsa && !usesMamba2 }
    /// Whether a chunk encoder (with layers) exists.
    public var hasEncoder: Bool { usesHSA && encoderLayers > 0 }
    /// Whether the encoder appends a learned CLS token.
    public var hasCLS: Bool { hasEncoder && landmark == .cls }
    /// The window the decoder's attention uses (`full` attention never drops a key; neither
    /// does `landmark`, whose op has no window).
    public var effectiveWindow: Int { attention == .full ? Int.max / 2 : window }
    /// Whether the model inserts landmark rows and runs Landmark Attention in every layer.
    public var usesLandmarks: Bool { attention == .landmark && !usesMamba2 }
    /// Whether every layer is a Mamba2 mixer (no attention anywhere).
    public var usesMamba2: Bool { mixer == .mamba2 }
    /// E = expand · C, the Mamba2 mixer's inner width.
    public var mambaInnerDim: Int { mambaExpand * dModel }
    /// H = E / P, the Mamba2 mixer's SSD heads.
    public var mambaHeads: Int { mambaInnerDim / mambaHeadDim }
    /// E + 2 G N: the channels of (x, B, C) that the causal conv runs over.
    public var mambaConvChannels: Int { mambaInnerDim + 2 * mambaGroups * mambaStateDim }
    /// 2 E + 2 G N + H: in_proj's output, split into z, x, B, C and dt.
    public var mambaProjectionWidth: Int { mambaInnerDim + mambaConvChannels + mambaHeads }
    /// Whether the decoder's attention rotates queries and keys (everything but NoPE landmark).
    public var usesRoPE: Bool { !usesLandmarks || landmarkRope }
    /// Whether upper layer `j` has an HSA sublayer.
    public func isHSALayer(_ j: Int) -> Bool { usesHSA && hsaLayers.contains(j) }
}

// MARK: - Presets

extension ModelConfig {
    /// Names accepted by `preset(named:)`.
    public static let presetNames = ["tiny", "small", "paper"]

    /// The reference sizes of MODEL.md, with the byte-level vocabulary.
    public static func preset(named name: String) throws -> ModelConfig {
        switch name {
        case "tiny": return .tiny
        case "small": return .small
        case "paper": return .paper
        default:
            throw ConfigError.unknownPreset(name)
        }
    }

    /// For tests: C 32, 1+1 layers, 2:1 heads, HS 16, F 64, W 16, S 8, K 2, E 1.
    public static let tiny = ModelConfig(
        vocabSize: 259, dModel: 32, nLowerLayers: 1, nUpperLayers: 1, hsaLayers: [0], nHeads: 2,
        nKvHeads: 1, headDim: 16, dFf: 64, window: 16, ropeTheta: 10_000, chunkSize: 8,
        encoderLayers: 1, topK: 2, landmark: .cls, chunkKv: .encoder, fusion: .stickBreaking,
        retrieval: .perToken, residual: .bypass, separateRetrievalQuery: true, qkNorm: true,
        attention: .hsa, tieEmbeddings: false, maxTrainLen: 256, retrievalDim: nil)

    /// For CPU demos: C 256, 4+4 layers, 8:2 heads, HS 32, F 768, W 512, S 64, K 8, E 2.
    public static let small = ModelConfig(
        vocabSize: 259, dModel: 256, nLowerLayers: 4, nUpperLayers: 4, hsaLayers: [0, 2],
        nHeads: 8, nKvHeads: 2, headDim: 32, dFf: 768, window: 512, ropeTheta: 10_000,
        chunkSize: 64, encoderLayers: 2, topK: 8, landmark: .cls, chunkKv: .encoder,
        fusion: .stickBreaking, retrieval: .perToken, residual: .bypass,
        separateRetrievalQuery: true, qkNorm: true, attention: .hsa, tieEmbeddings: false,
        maxTrainLen: 4096, retrievalDim: nil)

    /// The paper's size: C 1024, 8+8 layers, 16:4 heads, HS 64, F 2816, W 512, S 64, K 8, E 2.
    public static let paper = ModelConfig(
        vocabSize: 259, dModel: 1024, nLowerLayers: 8, nUpperLayers: 8, hsaLayers: [0, 2, 4, 6],
        nHeads: 16, nKvHeads: 4, headDim: 64, dFf: 2816, window: 512, ropeTheta: 10_000,
        chunkSize: 64, encoderLayers: 2, topK: 8, landmark: .cls, chunkKv: .encoder,
        fusion: .stickBreaking, retrieval: .perToken, residual: .bypass,
        separateRetrievalQuery: true, qkNorm: true, attention: .hsa, tieEmbeddings: false,
        maxTrainLen: 4096, retrievalDim: nil)
}
