import HSACPU
import HSACore

/// Builds the chunk memory from the lower decoder's output H: every complete chunk of S rows
/// (plus a learned CLS row) goes through E bidirectional encoder layers and a final RMSNorm;
/// its landmark and keys/values are projections of the result (MODEL.md "Layout", variants in
/// "Chunk-memory variants", details in docs/MODEL-NOTES.md).
struct ChunkEncoder {
    let config: ModelConfig
    let layer: DecoderLayer

    init(config: ModelConfig) {
        self.config = config
        layer = DecoderLayer(config: config, mask: .bidirectional)
    }

    /// Rows per encoded chunk: S tokens, plus the CLS row when the landmark is `cls`.
    var rowsPerChunk: Int { config.chunkSize + (config.hasCLS ? 1 : 0) }
    /// Whether `encoder.norm(H rows)` is needed (mean landmark or identity keys/values).
    var needsRawNorm: Bool { config.landmark == .mean || config.chunkKv == .identity }

    /// Activations kept for the backward pass. `chunks` = B * NC.
    struct Cache {
        let chunks: Int
        let raw: Tensor  // (chunks*S, C) the chunks' rows of H
        let layerInputs: [Tensor]  // E x (chunks*R, C), R = rowsPerChunk
        let layerCaches: [DecoderLayer.Cache]
        let encoded: Tensor?  // (chunks*R, C) last encoder layer output
        let encodedNormed: Tensor?  // (chunks*R, C)
        let encodedRstd: Tensor?  // (chunks*R)
        let rawNormed: Tensor?  // (chunks*S, C)
        let rawRstd: Tensor?  // (chunks*S)
        let landmarkInput: Tensor  // (chunks, C)
        let kvInput: Tensor  // (chunks*S, C)
    }

    // MARK: - Forward

    /// Encodes the NC = floor(T/S) complete chunks of every sequence of `hidden` (B*T, C).
    func forward(hidden: Tensor, weights w: EncoderWeights, batch: Int, sequenceLength: Int)
        -> (ChunkMemoryTensors, Cache)
    {
        let (s, c) = (config.chunkSize, config.dModel)
        let chunkCount = sequenceLength / s
        let chunks = batch * chunkCount
        let r = rowsPerChunk
        let memory = ChunkMemoryTensors(config: config, batch: batch, chunkCount: chunkCount)

        // raw (chunks*S, C): chunk (b, i) row j is H[b, i*S + j].
        let raw = Tensor(shape: [chunks * s, c])
        for b in 0..<batch {
            let source = hidden.data + b * sequenceLength * c
            TensorOps.copy(raw.data + b * chunkCount * s * c, source, count: chunkCount * s * c)
        }

        var layerInputs: [Tensor] = []
        var layerCaches: [DecoderLayer.Cache] = []
        var encoded: Tensor?
        var encodedNormed: Tensor?
        var encodedRstd: Tensor?
        if config.hasEncoder {
            var x = Tensor(shape: [chunks * r, c])
            for chunk in 0..<chunks {
                TensorOps.copy(x.data + chunk * r * c, raw.data + chunk * s * c, count: s * c)
                if let cls = w.cls {
                    TensorOps.copy(x.data + (chunk * r + s) * c, cls.data, count: c)
                }
            }
            let positions = sequencePositions(batch: chunks, length: r)
            for layerWeights in w.layers {
                let out = Tensor(shape: [chunks * r, c])
                layerInputs.append(x)
                layerCaches.append(
                    layer.forward(
                        out: out, input: x, weights: layerWeights, positions: positions,
                        batch: chunks, sequenceLength: r))
                x = out
            }
            let normed = Tensor(shape: [chunks * r, c])
            let rstd = Tensor(shape: [chunks * r])
            TensorOps.rmsNorm(normed, rstd: rstd, x, w.norm, rows: chunks * r)
            encoded = x
            encodedNormed = normed
            encodedRstd = rstd
        }
        var rawNormed: Tensor?
        var rawRstd: Tensor?
        if needsRawNorm {
            let normed = Tensor(shape: [chunks * s, c])
            let rstd = Tensor(shape: [chunks * s])
            TensorOps.rmsNorm(normed, rstd: rstd, raw, w.norm, rows: chunks * s)
            rawNormed = normed
            rawRstd = rstd
        }

        // Landmark input rows (chunks, C).
        let landmarkInput = Tensor(shape: [chunks, c])
        if config.landmark != .cls { TensorOps.synchronize() }  // host loop below
        for chunk in 0..<chunks {
            let dst = landmarkInput.data + chunk * c
            switch config.landmark {
            case .cls:
                if let normed = encodedNormed {
                    TensorOps.copy(dst, normed.data + (chunk * r + s) * c, count: c)
                }
            case .encoderMean, .mean:
                let source = config.landmark == .mean ? rawNormed : encodedNormed
                let stride = config.landmark == .mean ? s : r
                guard let source else { break }
                let rows = source.data + chunk * stride * c
                for j in 0..<s {
                    for k in 0..<c { dst[k] += rows[j * c + k] }
                }
                for k in 0..<c { dst[k] /= Float(s) }
            }
        }
        TensorOps.linear(memory.landmarks, landmarkInput, w.landmark, rows: chunks)

        // Key/value input rows (chunks*S, C).
        let kvInput: Tensor
        if config.chunkKv == .identity, let rawNormed {
            kvInput = rawNormed
        } else if let encodedNormed, r == s {
            kvInput = encodedNormed
        } else {
            kvInput = Tensor(shape: [chunks * s, c])
            if let encodedNormed {
                for chunk in 0..<chunks {
                    TensorOps.copy(
                        kvInput.data + chunk * s * c, encodedNormed.data + chunk * r * c,
                        count: s * c)
                }
            }
        }
        TensorOps.linear(memory.keys, kvInput, w.key, rows: chunks * s)
        TensorOps.linear(memory.values, kvInput, w.value, rows: chunks * s)

        let cache = Cache(
            chunks: chunks, raw: raw, layerInputs: layerInputs, layerCaches: layerCaches,
            encoded: encoded, encodedNormed: encodedNormed, encodedRstd: encodedRstd,
            rawNormed: rawNormed, rawRstd: rawRstd, landmarkInput: landmarkInput, kvInput: kvInput)
        return (memory, cache)
    }

    // MARK: - Backward

    /// dHidden (B*T, C) += the gradient of H through the memory whose gradient is `dMemory`;
    /// encoder parameter gradients accumulate into `grads`.
    func backward(
        dHidden: Tensor, dMemory: ChunkMemoryTensors, cache: Cache, weights w: EncoderWeights,
        grads g: EncoderWeights, batch: Int, sequenceLength: Int
    ) {
        let (s, c) = (config.chunkSize, config.dModel)
        let chunks = cache.chunks
        guard chunks > 0 else { return }
        let chunkCount = chunks / batch
        let r = rowsPerChunk

        let dLandmarkInput = TensorOps.linearInputGradient(
            dWeight: g.landmark, dOut: dMemory.landmarks, input: cache.landmarkInput,
            weight: w.landmark, rows: chunks)
        let dKVInput = Tensor(shape: [chunks * s, c])
        TensorOps.linearBackward(
            dInput: dKVInput, dWeight: g.key, dOut: dMemory.keys, input: cache.kvInput,
            weight: w.key, rows: chunks * s)
        TensorOps.linearBackward(
            dInput: dKVInput, dWeight: g.value, dOut: dMemory.values, input: cache.kvInput,
            weight: w.value, rows: chunks * s)

        // Route the gradients of the landmark and key/value inputs to the normed rows.
        let dEncodedNormed = config.hasEncoder ? Tensor(shape: [chunks * r, c]) : nil
        let dRawNormed = needsRawNorm ? Tensor(shape: [chunks * s, c]) : nil
        if config.landmark != .cls { TensorOps.synchronize() }  // host loop below
        for chunk in 0..<chunks {
            let dLandmark = dLandmarkInput.data + chunk * c
            switch config.landmark {
            case .cls:
                if let dEncodedNormed {
                    TensorOps.accumulate(
                        dEncodedNormed.data + (chunk * r + s) * c, dLandmark, count: c)
                }
            case .encoderMean, .mean:
                let target = config.landmark == .mean ? dRawNormed : dEncodedNormed
                let stride = config.landmark == .mean ? s : r
                guard let target else { break }
                let rows = target.data + chunk * stride * c
                for j in 0..<s {
                    for k in 0..<c { rows[j * c + k] += dLandmark[k] / Float(s) }
                }
            }
            let target = config.chunkKv == .identity ? dRawNormed : dEncodedNormed
            let stride = config.chunkKv == .identity ? s : r
            if let target {
                TensorOps.accumulate(
                    target.data + chunk * stride * c, dKVInput.data + chunk * s * c, count: s * c)
            }
        }

        // dRaw (chunks*S, C): gradient of the chunks' rows of H.
        let dRaw = Tensor(shape: [chunks * s, c])
        if let dRawNormed, let rawRstd = cache.rawRstd {
            TensorOps.rmsNormBackward(
                dInput: dRaw, dWeight: g.norm, dOut: dRawNormed, input: cache.raw, weight: w.norm,
                rstd: rawRstd, rows: chunks * s)
        }
        if let dEncodedNormed, let encoded = cache.encoded, let rstd = cache.encodedRstd {
            var dX = Tensor(shape: [chunks * r, c])
            TensorOps.rmsNormBackward(
                dInput: dX, dWeight: g.norm, dOut: dEncodedNormed, input: encoded, weight: w.norm,
                rstd: rstd, rows: chunks * r)
            let positions = sequencePositions(batch: chunks, length: r)
            for e in stride(from: w.layers.count - 1, through: 0, by: -1) {
                let dInput = Tensor(shape: [chunks * r, c])
                layer.backward(
                    dInput: dInput, dOut: dX, input: cache.layerInputs[e],
                    cache: cache.layerCaches[e],
                    weights: w.layers[e], grads: g.layers[e], positions: positions, batch: chunks,
                    sequenceLength: r)
                dX = dInput
            }
            for chunk in 0..<chunks {
                let src = dX.data + chunk * r * c
                TensorOps.accumulate(dRaw.data + chunk * s * c, src, count: s * c)
                if let dCLS = g.cls { TensorOps.accumulate(dCLS.data, src + s * c, count: c) }
            }
        }
        for b in 0..<batch {
            TensorOps.accumulate(
                dHidden.data + b * sequenceLength * c, dRaw.data + b * chunkCount * s * c,
                count: chunkCount * s * c)
        }
    }
}
