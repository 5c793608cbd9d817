// The small enums that op signatures share between backends. They live in HSACore so that every
// backend (CPU, CUDA) and the model name the same types; HSACPU re-exports HSACore.

// MARK: - Attention mask

/// Which keys each query may see.
public enum AttentionMask: Sendable, Equatable {
    /// Token t sees positions max(0, t - window + 1) ... t. `window >= T` is full causal attention.
    case causal(window: Int)
    /// Every position sees every position (chunk encoder).
    case bidirectional
}

// MARK: - RoPE direction

/// Which way RoPE turns each pair: by +angle (the forward op) or by -angle, the transpose, which
/// takes the output's gradient to the input's (the backward op).
public enum RopeDirection: Sendable, Equatable {
    case forward
    case backward

    /// +1 or -1: the factor on every angle's sine.
    public var sign: Float { self == .forward ? 1 : -1 }
}

// MARK: - Retrieval granularity

/// Which query position scores the chunks of a token (`retrieval` in config.json).
public enum RetrievalGranularity: String, Sendable, Codable, CaseIterable {
    /// Every token scores the chunks with its own retrieval query (default).
    case perToken = "per_token"
    /// Every token of chunk c uses the selection computed for position cS - 1 (DRT/GCA style).
    case perChunk = "per_chunk"
}

// MARK: - Fusion

/// How the per-chunk attention outputs of the selected chunks are combined (`fusion`).
public enum FusionKind: String, Sendable, Codable, CaseIterable {
    /// `w_k = sigmoid(s_k) * prod_{j<k} (1 - sigmoid(s_j))` in recency order (default).
    case stickBreaking = "stick_breaking"
    /// `w = softmax(s)` over the selected chunks.
    case softmax
    /// One softmax over the concatenated keys of all selected chunks; scores get no gradient.
    case joint
}
