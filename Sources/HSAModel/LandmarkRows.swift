import HSACore

/// The two streams of an `attention: landmark` model (docs/MODEL-NOTES.md "Landmark Attention
/// baseline"). The model inserts the landmarks itself, so data, training and evaluation see
/// ordinary token streams: a sequence of T tokens becomes T' = T + floor(T / S) rows with a
/// landmark row after every S tokens (block c = rows c (S + 1) ..< (c + 1)(S + 1), the landmark
/// last, as `LandmarkAttentionShape` lays it out), every layer runs on the T' rows, and the
/// landmark rows are dropped again before the final norm, so logits and losses stay per token.
///
/// The landmark row is a learned vector `embed.landmark` stored right after `embed.weight`, so
/// the two are one (V + 1, C) table and the landmark is token V: inserting is an embedding
/// lookup and its backward sums the landmark rows' gradients into `embed.landmark`, on any
/// backend, with no op of its own.
struct LandmarkRows {
    /// S, ordinary tokens per block.
    let blockSize: Int
    /// B.
    let batch: Int
    /// T, ordinary tokens per sequence.
    let length: Int

    /// T': rows per sequence with the landmarks (a trailing incomplete block has none).
    var expandedLength: Int { length + length / blockSize }

    /// The row of ordinary token t in its expanded sequence.
    func expandedRow(_ t: Int) -> Int { t + t / blockSize }

    /// (B*T') the token ids of the expanded stream, with `landmarkToken` in the landmark rows.
    func expandedTokens(_ tokens: [Int32], landmarkToken: Int32) -> [Int32] {
        let expanded = expandedLength
        var out = [Int32](repeating: landmarkToken, count: batch * expanded)
        for b in 0..<batch {
            for t in 0..<length { out[b * expanded + expandedRow(t)] = tokens[b * length + t] }
        }
        return out
    }

    /// The (S-row) runs of ordinary tokens: (first token, first expanded row, count) per
    /// sequence-relative block.
    private var runs: [(token: Int, row: Int, count: Int)] {
        stride(from: 0, to: length, by: blockSize).map {
            ($0, expandedRow($0), min(blockSize, length - $0))
        }
    }

    /// (B*T, C) the ordinary rows of `expanded` (B*T', C): what the final norm reads.
    func dropLandmarks(_ expanded: Tensor, channels c: Int) -> Tensor {
        let out = Tensor(shape: [batch * length, c])
        copyRuns(from: expanded, to: out, channels: c, expanding: false)
        return out
    }

    /// (B*T', C) `rows` (B*T, C) in their expanded places, zero in the landmark rows: the
    /// backward of `dropLandmarks`.
    func insertZeroLandmarks(_ rows: Tensor, channels c: Int) -> Tensor {
        let out = Tensor(shape: [batch * expandedLength, c])
        copyRuns(from: rows, to: out, channels: c, expanding: true)
        return out
    }

    /// Copies every run of ordinary rows (C wide) from the (B*T, C) layout to the expanded
    /// (B*T', C) one when `expanding`, else back.
    private func copyRuns(from source: Tensor, to out: Tensor, channels c: Int, expanding: Bool) {
        for b in 0..<batch {
            for run in runs {
                let ordinary = b * length + run.token
                let expanded = b * expandedLength + run.row
                let (to, from) = expanding ? (expanded, ordinary) : (ordinary, expanded)
                out.allocator.copy(out.data + to * c, source.data + from * c, count: run.count * c)
            }
        }
    }

    /// The (V + 1, C) view of `embed.weight` followed by `embed.landmark` in `store`; nil
    /// unless `config` uses landmarks.
    static func extendedTable(_ store: ParameterStore, config: ModelConfig) -> Tensor? {
        guard config.usesLandmarks, let table = store.layout.offsets["embed.weight"],
            let landmark = store.layout.offsets["embed.landmark"]
        else { return nil }
        let (v, c) = (config.vocabSize, config.dModel)
        precondition(landmark == table + v * c, "embed.landmark must follow embed.weight")
        return Tensor(viewing: store.storage, offset: table, shape: [v + 1, c])
    }
}
