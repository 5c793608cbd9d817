import HSAModel

/// The chunks one row selects, computed on the host with the selection rule of MODEL.md
/// ("Each KV head g picks its own top-K eligible chunks"; ties: lower chunk index first), in
/// recency order: for checks of a device's selection against the CPU path.
enum HostSelection {
    /// (NKV, K) chunk indices, recency order (largest first), -1 in empty slots.
    /// - Parameters:
    ///   - retrievalQuery: (NKV, DR) host memory.
    ///   - eligible: chunks 0 ..< eligible may be selected.
    ///   - landmarks: (NC, NKV, DR) host memory.
    static func topChunks(
        retrievalQuery: UnsafePointer<Float>, eligible: Int, landmarks: UnsafePointer<Float>,
        config: ModelConfig
    ) -> [Int32] {
        let (nkv, dr, k) = (config.nKvHeads, config.retrievalHeadDim, config.topK)
        var result = [Int32](repeating: -1, count: nkv * k)
        let scale = 1 / Float(dr).squareRoot()
        for g in 0..<nkv {
            var scored: [(score: Float, chunk: Int)] = []
            scored.reserveCapacity(eligible)
            for i in 0..<eligible {
                var dot: Float = 0
                for d in 0..<dr {
                    dot += retrievalQuery[g * dr + d] * landmarks[(i * nkv + g) * dr + d]
                }
                scored.append((dot * scale, i))
            }
            scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.chunk < $1.chunk }
            let chosen = scored.prefix(k).map(\.chunk).sorted(by: >)
            for (slot, chunk) in chosen.enumerated() { result[g * k + slot] = Int32(chunk) }
        }
        return result
    }
}
