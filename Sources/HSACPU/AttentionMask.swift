// AttentionMask itself lives in HSACore (Tensor/HSAKinds.swift); these are the CPU kernels
// helpers over it.
import HSACore

// MARK: - Bounds

extension AttentionMask {
    /// The first and last key position (inclusive) that query position `query` sees in a
    /// sequence of `sequenceLength` positions. Never empty: a query always sees itself.
    @inline(__always)
    func keyBounds(query: Int, sequenceLength: Int) -> (first: Int, last: Int) {
        switch self {
        case .causal(let window): return (max(0, query - window + 1), query)
        case .bidirectional: return (0, sequenceLength - 1)
        }
    }

    /// The first and last query position (inclusive) that see key position `key` in a sequence
    /// of `sequenceLength` positions (the transpose of `keyBounds`).
    @inline(__always)
    func queryBounds(key: Int, sequenceLength: Int) -> (first: Int, last: Int) {
        switch self {
        case .causal(let window): return (key, min(sequenceLength - 1, key + window - 1))
        case .bidirectional: return (0, sequenceLength - 1)
        }
    }

    /// True when the mask is usable: a causal window must hold at least the query itself.
    var isValid: Bool {
        switch self {
        case .causal(let window): return window >= 1
        case .bidirectional: return true
        }
    }
}
