// The two HSA knobs that change which kernel path runs: how retrieval queries are chosen and how
// the selected chunks' outputs are fused. Their raw values are the config.json spellings.

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
