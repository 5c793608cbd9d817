import HSACPU
import HSACore

/// The whole hsa language model on the CPU backend: parameters, gradients and the explicit
/// forward and backward call lists (MODEL.md "Layout").
public final class LanguageModel: @unchecked Sendable {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let parameters: ParameterStore
    /// Same layout as `parameters`; `backward` accumulates into it.
    public let gradients: ParameterStore
    let weights: ModelWeights
    let gradientWeights: ModelWeights

    /// When set, HSA layer i (bottom to top) uses `fixedSelections[i]` (B*T, NKV, K) instead of
    /// its top-k selection. Only gradient checks set it: selection is not differentiable.
    public var fixedSelections: [[Int32]]?

    let lowerLayer: DecoderLayer
    let upperLayer: DecoderLayer
    let hsaLayer: HSADecoderLayer
    let encoder: ChunkEncoder
    let mamba2Layer: Mamba2Layer

    /// A model with parameters initialised from `seed` (MODEL.md initialisation).
    public init(config: ModelConfig, seed: UInt64 = 0) {
        self.config = config
        layout = ParameterLayout(config: config)
        parameters = ParameterStore(layout: layout)
        gradients = ParameterStore(layout: layout)
        parameters.initialize(seed: seed)
        weights = ModelWeights(parameters, config: config)
        gradientWeights = ModelWeights(gradients, config: config)
        lowerLayer = DecoderLayer(config: config, op: .decoder(config))
        upperLayer = DecoderLayer(config: config, op: .decoder(config))
        hsaLayer = HSADecoderLayer(config: config)
        encoder = ChunkEncoder(config: config)
        mamba2Layer = Mamba2Layer(config: config)
    }

    /// One forward pass over a (B, T) batch, with everything the backward pass needs.
    public final class Pass: @unchecked Sendable {
        public let batch: Int
        public let sequenceLength: Int
        /// T' = the rows per sequence the layers run on: T, or T plus the inserted landmark
        /// rows with `attention: landmark` (`LandmarkRows`).
        public let layerLength: Int
        /// The landmark rows' layout (nil unless `attention: landmark`).
        let landmarkRows: LandmarkRows?
        let layerTokens: [Int32]  // (B*T'), the landmark as token V
        let targets: [Int32]  // (B*T), -1 where the loss mask is 0
        let positions: [Int32]  // (B*T')
        /// Residual stream entering each lower layer, then H, then entering each upper layer.
        let streams: [Tensor]  // (LL + LU + 1) x (B*T', C)
        /// The last stream without its landmark rows: what the final norm read (B*T, C).
        let finalInput: Tensor
        let lowerCaches: [DecoderLayer.Cache]
        let upperCaches: [UpperCache]
        /// With `mixer: mamba2`: every layer's, lower then upper (the other caches are empty).
        let mamba2Caches: [Mamba2Layer.Cache]
        /// The chunk memory (nil without HSA).
        public let memory: ChunkMemoryTensors?
        let encoderCache: ChunkEncoder.Cache?
        let finalNormed: Tensor  // (B*T, C)
        let finalRstd: Tensor  // (B*T)
        /// (B*T, V) next-token logits.
        public let logits: Tensor
        /// (B*T) per-position loss (0 where masked).
        public let losses: Tensor
        /// Number of positions that count towards the loss.
        public let targetCount: Int
        /// Mean loss over counted positions.
        public let loss: Float

        /// The output of lower layer `l` (B*T', C).
        public func lowerOutput(_ l: Int) -> Tensor { streams[l + 1] }
        /// H, the input of the chunk memory (B*T', C).
        public var middle: Tensor { streams[lowerCaches.count] }
        /// The output of upper layer `l` (B*T', C).
        public func upperOutput(_ l: Int) -> Tensor { streams[lowerCaches.count + l + 1] }
        /// The selected chunk indices (B*T, NKV, K) of every HSA layer, bottom to top.
        public var selections: [[Int32]] {
            upperCaches.compactMap {
                if case .hsa(let cache) = $0 { return cache.hsa.indices }
                return nil
            }
        }

        init(
            batch: Int, sequenceLength: Int, landmarkRows: LandmarkRows?, layerTokens: [Int32],
            targets: [Int32], positions: [Int32], streams: [Tensor], finalInput: Tensor,
            lowerCaches: [DecoderLayer.Cache], upperCaches: [UpperCache],
            mamba2Caches: [Mamba2Layer.Cache], memory: ChunkMemoryTensors?,
            encoderCache: ChunkEncoder.Cache?, finalNormed: Tensor,
            finalRstd: Tensor, logits: Tensor, losses: Tensor, targetCount: Int, loss: Float
        ) {
            self.batch = batch
            self.sequenceLength = sequenceLength
            self.layerLength = landmarkRows?.expandedLength ?? sequenceLength
            self.landmarkRows = landmarkRows
            self.layerTokens = layerTokens
            self.targets = targets
            self.positions = positions
            self.streams = streams
            self.finalInput = finalInput
            self.lowerCaches = lowerCaches
            self.upperCaches = upperCaches
            self.mamba2Caches = mamba2Caches
            self.memory = memory
            self.encoderCache = encoderCache
            self.finalNormed = finalNormed
            self.finalRstd = finalRstd
            self.logits = logits
            self.losses = losses
            self.targetCount = targetCount
            self.loss = loss
        }
    }

    enum UpperCache {
        case plain(DecoderLayer.Cache)
        case hsa(HSADecoderLayer.Cache)
    }
}

// MARK: - Forward

extension LanguageModel {
    /// Runs the model over `tokens` (B*T). With `targets` (B*T, -1 = ignore) and an optional
    /// `lossMask` (B*T, 1 = counts), it also computes the mean cross-entropy. With
    /// `mamba2States` (one per layer of a `mixer: mamba2` model, each for B sequences), the B
    /// rows continue the sequences those states ended, and the states advance (state passing
    /// across training segments; `backward` treats the carried start as a constant).
    public func forward(
        tokens: [Int32], targets: [Int32]? = nil, lossMask: [Float]? = nil, batch: Int,
        sequenceLength: Int, mamba2States: [Mamba2State]? = nil
    ) -> Pass {
        let n = batch * sequenceLength
        let c = config.dModel
        precondition(
            tokens.count == n, "\(tokens.count) tokens for batch \(batch) x \(sequenceLength)")
        if let mamba2States {
            precondition(
                mamba2States.count == weights.mamba2.count
                    && mamba2States.allSatisfy { $0.batch == batch },
                "mamba2States: one state of batch \(batch) per Mamba2 layer")
        }
        // The layers run on m = B*T' rows: the tokens, with landmark rows (token V of the
        // extended table) inserted for `attention: landmark`.
        let landmarkRows =
            config.usesLandmarks
            ? LandmarkRows(blockSize: config.landmarkBlock, batch: batch, length: sequenceLength)
            : nil
        let layerLength = landmarkRows?.expandedLength ?? sequenceLength
        let m = batch * layerLength
        let layerTokens =
            landmarkRows?.expandedTokens(tokens, landmarkToken: Int32(config.vocabSize)) ?? tokens
        let table = weights.embeddingWithLandmark ?? weights.embedding
        let positions = sequencePositions(batch: batch, length: layerLength)
        var streams: [Tensor] = [Tensor(shape: [m, c])]
        layerTokens.withUnsafeBufferPointer { ids in
            guard let ids = ids.baseAddress else { return }
            TensorOps.backend.embeddingForward(
                out: streams[0].data, tokens: ids, table: table.data, rows: m, channels: c)
        }

        // `mixer: mamba2`: every layer is a Mamba2 layer (`weights.lower` and `upper` are empty).
        var mamba2Caches: [Mamba2Layer.Cache] = []
        for (l, layerWeights) in weights.mamba2.enumerated() {
            let out = Tensor(shape: [m, c])
            mamba2Caches.append(
                mamba2Layer.forward(
                    out: out, input: streams[streams.count - 1], weights: layerWeights,
                    batch: batch, sequenceLength: layerLength, state: mamba2States?[l]))
            streams.append(out)
        }

        var lowerCaches: [DecoderLayer.Cache] = []
        for layerWeights in weights.lower {
            let out = Tensor(shape: [m, c])
            lowerCaches.append(
                lowerLayer.forward(
                    out: out, input: streams[streams.count - 1], weights: layerWeights,
                    positions: positions, batch: batch, sequenceLength: layerLength))
            streams.append(out)
        }

        var memory: ChunkMemoryTensors?
        var encoderCache: ChunkEncoder.Cache?
        if let encoderWeights = weights.encoder {
            let (built, cache) = encoder.forward(
                hidden: streams[streams.count - 1], weights: encoderWeights, batch: batch,
                sequenceLength: sequenceLength)
            memory = built
            encoderCache = cache
        }

        var upperCaches: [UpperCache] = []
        var hsaLayerIndex = 0
        for (j, layerWeights) in weights.upper.enumerated() {
            let out = Tensor(shape: [m, c])
            let input = streams[streams.count - 1]
            if let hsaWeights = weights.hsa[j], let memory {
                let fixed = fixedSelections?[hsaLayerIndex]
                hsaLayerIndex += 1
                upperCaches.append(
                    .hsa(
                        hsaLayer.forward(
                            out: out, input: input, memory: memory, weights: layerWeights,
                            hsaWeights: hsaWeights, positions: positions, batch: batch,
                            sequenceLength: sequenceLength, fixedIndices: fixed)))
            } else {
                upperCaches.append(
                    .plain(
                        upperLayer.forward(
                            out: out, input: input, weights: layerWeights, positions: positions,
                            batch: batch, sequenceLength: layerLength)))
            }
            streams.append(out)
        }

        let last = streams[streams.count - 1]
        let finalInput = landmarkRows?.dropLandmarks(last, channels: c) ?? last
        let finalNormed = Tensor(shape: [n, c])
        let finalRstd = Tensor(shape: [n])
        TensorOps.rmsNorm(finalNormed, rstd: finalRstd, finalInput, weights.finalNorm, rows: n)
        let logits = Tensor(shape: [n, config.vocabSize])
        TensorOps.linear(logits, finalNormed, weights.head, rows: n)

        // Targets whose mask is 0 become -1 so the loss ops skip them.
        var maskedTargets = targets ?? [Int32](repeating: -1, count: n)
        if let lossMask {
            for i in 0..<n where lossMask[i] == 0 { maskedTargets[i] = -1 }
        }
        let losses = Tensor(shape: [n])
        maskedTargets.withUnsafeBufferPointer { ids in
            guard let ids = ids.baseAddress else { return }
            TensorOps.backend.crossEntropyForward(
                losses: losses.data, logits: logits.data, targets: ids, rows: n,
                vocab: config.vocabSize)
        }
        let targetCount = maskedTargets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        // Summed in index order in Double by every backend (a device syncs first).
        let total = TensorOps.backend.sum(losses.data, count: n)
        let loss = targetCount > 0 ? Float(total / Double(targetCount)) : 0

        return Pass(
            batch: batch, sequenceLength: sequenceLength, landmarkRows: landmarkRows,
            layerTokens: layerTokens, targets: maskedTargets, positions: positions,
            streams: streams, finalInput: finalInput, lowerCaches: lowerCaches,
            upperCaches: upperCaches, mamba2Caches: mamba2Caches, memory: memory,
            encoderCache: encoderCache,
            finalNormed: finalNormed, finalRstd: finalRstd, logits: logits, losses: losses,
            targetCount: targetCount, loss: loss)
    }
}

// MARK: - Backward

extension LanguageModel {
    /// Accumulates into `gradients` the gradient of `pass.loss` scaled by `lossScale` (use
    /// 1/accumulationSteps for gradient accumulation).
    /// - Parameter gradientsFinal: called with each range of arena elements (`ParameterLayout`
    ///   offsets) as soon as this call has written its last gradient there: final norm and
    ///   head, the upper layers top down (each with its HSA sublayer), the chunk encoder, the
    ///   lower layers top down, the embedding. The ranges tile the arena once, in the same order
    ///   for every pass (also one without loss targets), so data-parallel ranks can start
    ///   collectives on them in step. On a GPU the writing work is queued, not necessarily
    ///   done. nil (the default) costs nothing.
    public func backward(
        _ pass: Pass, lossScale: Float = 1, gradientsFinal: ((Range<Int>) -> Void)? = nil
    ) {
        let n = pass.batch * pass.sequenceLength
        let m = pass.batch * pass.layerLength  // the layers' rows (landmarks included)
        let c = config.dModel
        let (batch, length) = (pass.batch, pass.layerLength)
        // Resolved only when someone listens.
        let groups = gradientsFinal.map { GradientGroups(layout: layout, report: $0) }
        guard pass.targetCount > 0 else {
            // Nothing to add: every gradient is final now, reported in the usual order.
            groups?.finishAll(lower: config.nLowerLayers, upper: config.nUpperLayers)
            return
        }

        let rowScale = [Float](repeating: lossScale / Float(pass.targetCount), count: n)
        let dLogits = Tensor(shape: [n, config.vocabSize])
        pass.targets.withUnsafeBufferPointer { ids in
            rowScale.withUnsafeBufferPointer { scale in
                guard let ids = ids.baseAddress, let scale = scale.baseAddress else { return }
                TensorOps.backend.crossEntropyBackward(
                    dLogits: dLogits.data, logits: pass.logits.data, targets: ids,
                    rowScale: scale, rows: n, vocab: config.vocabSize)
            }
        }
        let dFinalNormed = TensorOps.linearInputGradient(
            dWeight: gradientWeights.head, dOut: dLogits, input: pass.finalNormed,
            weight: weights.head, rows: n)
        let dFinalInput = Tensor(shape: [n, c])
        TensorOps.rmsNormBackward(
            dInput: dFinalInput, dWeight: gradientWeights.finalNorm, dOut: dFinalNormed,
            input: pass.finalInput, weight: weights.finalNorm, rstd: pass.finalRstd, rows: n)
        // Dropped landmark rows get no gradient from the head.
        var dStream =
            pass.landmarkRows?.insertZeroLandmarks(dFinalInput, channels: c) ?? dFinalInput
        groups?.finished(.head)

        // `mixer: mamba2` layers, top down (named lower.l and upper.j like the others).
        for i in stride(from: weights.mamba2.count - 1, through: 0, by: -1) {
            let dInput = Tensor(shape: [m, c])
            mamba2Layer.backward(
                dInput: dInput, dOut: dStream, input: pass.streams[i], cache: pass.mamba2Caches[i],
                weights: weights.mamba2[i], grads: gradientWeights.mamba2[i], batch: batch,
                sequenceLength: length)
            dStream = dInput
            let lowerLayers = config.nLowerLayers
            groups?.finished(i >= lowerLayers ? .upper(i - lowerLayers) : .lower(i))
        }

        let lowerCount = weights.lower.count
        let dMemory = pass.memory.map {
            ChunkMemoryTensors(config: config, batch: batch, chunkCount: $0.chunkCount)
        }
        for j in stride(from: weights.upper.count - 1, through: 0, by: -1) {
            let input = pass.streams[lowerCount + j]
            let dInput = Tensor(shape: [m, c])
            switch pass.upperCaches[j] {
            case .plain(let cache):
                upperLayer.backward(
                    dInput: dInput, dOut: dStream, input: input, cache: cache,
                    weights: weights.upper[j], grads: gradientWeights.upper[j],
                    positions: pass.positions, batch: batch, sequenceLength: length)
            case .hsa(let cache):
                guard let memory = pass.memory, let dMemory, let hsaWeights = weights.hsa[j],
                    let hsaGrads = gradientWeights.hsa[j]
                else { preconditionFailure("HSA layer \(j) without chunk memory") }
                hsaLayer.backward(
                    dInput: dInput, dMemory: dMemory, dOut: dStream, input: input,
                    memory: memory, cache: cache, weights: weights.upper[j],
                    grads: gradientWeights.upper[j], hsaWeights: hsaWeights, hsaGrads: hsaGrads,
                    positions: pass.positions, batch: batch, sequenceLength: length)
            }
            dStream = dInput
            groups?.finished(.upper(j))
        }

        if let dMemory, let cache = pass.encoderCache, let encoderWeights = weights.encoder,
            let encoderGrads = gradientWeights.encoder
        {
            encoder.backward(
                dHidden: dStream, dMemory: dMemory, cache: cache, weights: encoderWeights,
                grads: encoderGrads, batch: batch, sequenceLength: length)
        }
        groups?.finished(.encoder)

        for l in stride(from: lowerCount - 1, through: 0, by: -1) {
            let dInput = Tensor(shape: [m, c])
            lowerLayer.backward(
                dInput: dInput, dOut: dStream, input: pass.streams[l], cache: pass.lowerCaches[l],
                weights: weights.lower[l], grads: gradientWeights.lower[l],
                positions: pass.positions, batch: batch, sequenceLength: length)
            dStream = dInput
            groups?.finished(.lower(l))
        }
        // With landmarks the table is (V + 1, C): the landmark rows' gradients sum into
        // `embed.landmark`.
        let dTable = gradientWeights.embeddingWithLandmark ?? gradientWeights.embedding
        pass.layerTokens.withUnsafeBufferPointer { ids in
            guard let ids = ids.baseAddress else { return }
            TensorOps.backend.embeddingBackward(
                dTable: dTable.data, dOut: dStream.data, tokens: ids, rows: m, channels: c)
        }
        groups?.finished(.embedding)
    }

    /// Zeroes every gradient.
    public func zeroGradients() { gradients.storage.zero() }
}

// MARK: - Gradient groups

/// The arena ranges whose gradients `backward` finishes together, found from the parameter
/// names (`embed`, `lower.l`, `encoder`, `upper.j` with its `hsa`, `norm` + `lm_head`), so they
/// follow the layout whatever its order.
private struct GradientGroups {
    enum Group: Hashable {
        case head
        case upper(Int)
        case encoder
        case lower(Int)
        case embedding
    }

    /// (arena ranges) per group; a group absent from the model has none.
    let ranges: [Group: [Range<Int>]]
    let report: (Range<Int>) -> Void

    init(layout: ParameterLayout, report: @escaping (Range<Int>) -> Void) {
        var ranges: [Group: [Range<Int>]] = [:]
        for spec in layout.specs {
            guard let offset = layout.offsets[spec.name] else { continue }
            let parts = spec.name.split(separator: ".")
            let group: Group
            switch parts.first {
            case "embed": group = .embedding
            case "lower": group = .lower(parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
            case "upper": group = .upper(parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
            case "encoder": group = .encoder
            default: group = .head  // norm.weight, lm_head.weight
            }
            let range = offset..<(offset + spec.count)
            // Neighbouring parameters of one group become one range.
            var list = ranges[group, default: []]
            if let last = list.last, last.upperBound == range.lowerBound {
                list[list.count - 1] = last.lowerBound..<range.upperBound
            } else {
                list.append(range)
            }
            ranges[group] = list
        }
        self.ranges = ranges
        self.report = report
    }

    func finished(_ group: Group) {
        for range in ranges[group] ?? [] where !range.isEmpty { report(range) }
    }

    /// Reports every group in the order `backward` finishes them.
    func finishAll(lower: Int, upper: Int) {
        finished(.head)
        for j in stride(from: upper - 1, through: 0, by: -1) { finished(.upper(j)) }
        finished(.encoder)
        for l in stride(from: lower - 1, through: 0, by: -1) { finished(.lower(l)) }
        finished(.embedding)
    }
}
