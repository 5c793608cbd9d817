import HSACore

extension ComputeBackend {
    /// RoPE of one attention call: the query rows (N, NH, HS) and key rows (N, NKV, HS) of `rows`
    /// tokens rotated in place at `positions` (N) with `config`'s heads and rotary embedding;
    /// backward turns their gradients into the unrotated rows' gradients.
    public func ropeQueryAndKey(
        query: UnsafeMutablePointer<Float>, key: UnsafeMutablePointer<Float>, rows: Int,
        positions: [Int32], config: ModelConfig, direction: RopeDirection
    ) {
        let (headDim, rotary) = (config.headDim, config.rotaryEmbedding)
        positions.withUnsafeBufferPointer { buffer in
            guard let p = buffer.baseAddress else { return }
            rope(
                query, positions: p, rows: rows, heads: config.nHeads, headDim: headDim,
                rotary: rotary, direction: direction)
            rope(
                key, positions: p, rows: rows, heads: config.nKvHeads, headDim: headDim,
                rotary: rotary, direction: direction)
        }
    }
}
