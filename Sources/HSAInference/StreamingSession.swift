import Foundation
import HSACPU
import HSACore
import HSAModel

/// Streaming long-context inference (MODEL.md "Long-context inference"): consumes a prompt of
/// any length in blocks in O(T) time and bounded memory, with logits equal to
/// `LanguageModel.forward` at the last position.
///
/// - The lower decoder runs block by block with a (W-1)-row key/value window per layer.
/// - Every completed chunk of S rows of H is encoded once by the model's own chunk encoder and
///   appended to the `ChunkMemory` (landmarks in RAM, keys/values in a `KVStore`).
/// - Upper-layer outputs before the last LU * (W - 1) positions cannot reach the last position
///   (each layer's SWA looks back W - 1; per_chunk retrieval adds S more), so prefill keeps
///   only that tail of H and runs the upper decoder over it when logits are needed. That pass
///   also fills the upper layers' windows, after which `decodeNext` runs every layer
///   incrementally, one token at a time.
/// - `attention: full` cannot stream in bounded memory: its windows and the tail keep every
///   position (a full KV cache), and the upper pass covers the whole prompt.
/// - `mixer: mamba2` has no lower/upper split: every block runs through all its layers in
///   their recurrent form (`Mamba2State`, constant memory), and the logits come from the last
///   row.
/// - `attention: landmark` has none either: every block, with the landmark rows it completes,
///   runs through all layers over their block caches (`LandmarkStream`: every key and value
///   kept, attention over the own block and the `top_k` best earlier blocks), CPU only.
///
/// When `ComputeBackends.current` is a `StreamingAccelerator` (`--backend cuda`) at creation,
/// every cache (windows, tail, landmarks) lives in its memory, the chunk keys/values go to its
/// `DeviceKVStore` (device memory, then host memory past its budget; `storage` is not used) and
/// every op runs there; only tokens and logits cross to the host.
///
/// Not thread-safe: one caller at a time.
public final class StreamingSession {
    /// The model being run.
    public let model: LanguageModel
    /// The model's config.
    public let config: ModelConfig
    /// The chunk memory (nil unless `attention` is `hsa`).
    public let memory: ChunkMemory?
    /// Tokens consumed so far (prefill and decode); internal(set) for `init(restoring:)`.
    public internal(set) var position = 0
    /// Largest block run through the layers at once (bounds the scratch memory).
    public let maxBlock: Int

    private let weights: ModelWeights
    private var layer: StreamingLayer
    /// The ops' backend (the layer's).
    private var backend: any ComputeBackend { layer.backend }
    /// Internal, like `middle` and `pendingChunk`: `StreamingSession+Snapshot` saves and
    /// restores them.
    let lowerStates: [LayerState]
    /// One per layer of a `mixer: mamba2` model (empty otherwise).
    private let mamba2States: [Mamba2State]
    /// The block caches of an `attention: landmark` model (nil otherwise).
    private let landmarkStream: LandmarkStream?
    private var upperStates: [LayerState] = []
    /// Whether `upperStates` and `lastLogits` reflect every consumed token.
    private var upperCurrent = false
    private var lastLogits: [Float] = []
    /// The tail of H needed by the upper decoder, (·, C).
    let middle: RowWindow
    /// H rows of the current incomplete chunk, (< S, C).
    let pendingChunk: RowWindow

    /// A session at position 0; keys/values of the chunk memory go where `storage` says, in
    /// `precision` (bf16 halves their size but is no longer exact). `maxBlock` caps the rows
    /// processed at once (prefill splits larger blocks).
    public convenience init(
        model: LanguageModel, storage: KVStorage = .ram, precision: KVPrecision = .fp32,
        maxBlock: Int = 1024
    ) throws {
        try Self.checkSupported(model.config)
        let layer = StreamingLayer(config: model.config)
        let memory =
            model.config.usesHSA
            ? try ChunkMemory(
                config: model.config, storage: storage, precision: precision,
                accelerator: layer.accelerator) : nil
        self.init(model: model, layer: layer, memory: memory, maxBlock: maxBlock)
    }

    /// A session at position 0 running `layer`, with `memory` as its chunk memory (nil unless
    /// `attention` is `hsa`).
    init(model: LanguageModel, layer: StreamingLayer, memory: ChunkMemory?, maxBlock: Int) {
        self.model = model
        config = model.config
        weights = model.inferenceWeights
        self.layer = layer
        self.maxBlock = max(1, maxBlock)
        self.memory = memory
        // A landmark stream keeps the block caches of all its layers itself.
        lowerStates =
            model.config.usesLandmarks
            ? []
            : weights.lower.map { _ in LayerState(config: model.config, firstPosition: 0) }
        mamba2States = model.mamba2States()
        landmarkStream =
            model.config.usesLandmarks
            ? LandmarkStream(config: model.config, weights: weights, layer: layer) : nil
        middle = RowWindow(width: model.config.dModel, capacity: 64)
        pendingChunk = RowWindow(width: model.config.dModel, capacity: model.config.chunkSize)
    }

    /// Throws `InferenceError.streamingUnsupported` for a model the streaming layers cannot
    /// run on the current backend: `attention: landmark` and `mixer: mamba2` on an accelerator
    /// (their block retrieval and SSD scan run on the CPU only).
    /// Commands call it right after choosing the backend, so they refuse before other work.
    public static func checkSupported(_ config: ModelConfig) throws {
        if config.usesMamba2, ComputeBackends.current is any StreamingAccelerator {
            throw InferenceError.streamingUnsupportedMixer(config.mixer.rawValue)
        }
        if config.usesLandmarks, ComputeBackends.current is any StreamingAccelerator {
            throw InferenceError.streamingUnsupported(attention: config.attention.rawValue)
        }
    }

    // MARK: - Sizes

    /// Positions each upper layer's exact output region shrinks by: W - 1, plus S with
    /// per_chunk retrieval (a row's scores come from up to S positions back). Nil for full
    /// attention (unbounded).
    var upperSpan: Int? {
        guard config.attention != .full else { return nil }
        let perChunk = config.usesHSA && config.retrieval == .perChunk
        return config.window - 1 + (perChunk ? config.chunkSize : 0)
    }

    /// Rows of H kept for the upper decoder: LU * span + 1 (nil: all).
    var tailLength: Int? { upperSpan.map { weights.upper.count * $0 + 1 } }

    /// Bytes of RAM held by the caches (windows, tail, landmarks; K/V too when in RAM).
    public var cacheBytes: Int {
        var total = middle.allocatedBytes + pendingChunk.allocatedBytes
        for state in lowerStates + upperStates { total += state.allocatedBytes }
        for state in mamba2States { total += state.allocatedBytes }
        total += landmarkStream?.allocatedBytes ?? 0
        if let memory {
            total += memory.landmarkBytes
            if memory.store is RAMKVStore { total += memory.store.storedBytes }
        }
        return total
    }

    /// Whether the session runs on a device (`StreamingAccelerator`) rather than the CPU.
    public var isAccelerated: Bool { layer.accelerator != nil }

    /// Whether HSA layers record the chunks their last row selects (`lastSelections`); for
    /// checks of one backend against another.
    public var recordsSelections: Bool {
        get { layer.recordsSelections }
        set { layer.recordsSelections = newValue }
    }

    /// Per upper layer with HSA (ascending), the (NKV, K) chunks selected by the last position
    /// run through it (recency order, -1 in empty slots); empty unless `recordsSelections`.
    public var lastSelections: [[Int32]] { upperStates.compactMap(\.lastSelection) }

    // MARK: - Prefill

    /// Consumes `tokens` (any count, any number of calls). Logits are computed lazily by
    /// `logits()` or `decodeNext(token:)`. Invalid tokens are rejected before anything runs;
    /// after a key/value file error the session is inconsistent and must be discarded.
    public func prefill(tokens: [Int32]) throws {
        try validate(tokens)
        var start = 0
        while start < tokens.count {
            let n = min(maxBlock, tokens.count - start)
            let block = Array(tokens[start..<(start + n)])
            if let landmarkStream {
                lastLogits = try landmarkLogits(landmarkStream, block)
            } else {
                appendMiddle(try lowerBlock(block), rows: n)
            }
            position += n
            start += n
        }
        // A landmark stream runs every layer as it goes, so its logits are already current.
        if !tokens.isEmpty { upperCurrent = landmarkStream != nil }
    }

    /// Next-token logits (V) at the last consumed position.
    public func logits() throws -> [Float] {
        guard position > 0 else { throw InferenceError.emptyContext }
        if !upperCurrent { try rebuildUpper() }
        return lastLogits
    }

    // MARK: - Decode

    /// Consumes one token and returns the next-token logits (V) at its position, running
    /// every layer incrementally.
    public func decodeNext(token: Int32) throws -> [Float] {
        if landmarkStream != nil {
            // The stream runs every layer as it consumes: decoding is a one-token prefill.
            try prefill(tokens: [token])
            return lastLogits
        }
        try validate([token])
        if !upperCurrent {
            if position > 0 {
                try rebuildUpper()
            } else {
                upperStates = freshUpperStates(firstPosition: 0)
                upperCurrent = true
            }
        }
        let hidden = try lowerBlock([token])
        appendMiddle(hidden, rows: 1)
        for j in weights.upper.indices {
            try layer.forward(
                hidden, rows: 1, firstPosition: position, weights: weights.upper[j],
                hsa: weights.hsa[j], state: upperStates[j], memory: memory)
        }
        position += 1
        lastLogits = head(hidden.data)
        return lastLogits
    }

    // MARK: - Steps

    /// Embeds `tokens` at `position ...`, runs the lower decoder, and encodes every chunk they
    /// complete. Returns H (n, C).
    private func lowerBlock(_ tokens: [Int32]) throws -> Tensor {
        let (n, c) = (tokens.count, config.dModel)
        var x = Tensor(shape: [n, c])
        tokens.withUnsafeBufferPointer { ids in
            guard let ids = ids.baseAddress else { return }
            backend.embeddingForward(
                out: x.data, tokens: ids, table: weights.embedding.data, rows: n, channels: c)
        }
        for (l, state) in mamba2States.enumerated() {
            x = model.mamba2Block(x, rows: n, weights: weights.mamba2[l], state: state)
        }
        for (l, state) in lowerStates.enumerated() {
            try layer.forward(
                x, rows: n, firstPosition: position, weights: weights.lower[l], hsa: nil,
                state: state, memory: nil)
        }
        if let memory { try encodeCompletedChunks(x, rows: n, memory: memory) }
        return x
    }

    /// Appends the rows of H to the pending chunk and encodes every chunk that completes.
    private func encodeCompletedChunks(_ hidden: Tensor, rows n: Int, memory: ChunkMemory) throws {
        let (s, c) = (config.chunkSize, config.dModel)
        let pending = pendingChunk.count
        let chunks = (pending + n) / s
        guard chunks > 0 else {
            pendingChunk.append(hidden.data, rows: n)
            return
        }
        // Every move goes through the backend: the rows may live in a device's memory.
        // (chunks*S, C): the pending rows, then the block's rows that complete chunks.
        let fromBlock = chunks * s - pending
        let rows = Tensor(shape: [chunks * s, c])
        backend.copy(rows.data, pendingChunk.rows, count: pending * c)
        backend.copy(rows.data + pending * c, hidden.data, count: fromBlock * c)
        // Encode in groups of chunks, so a huge block never holds all encoder activations.
        let group = max(1, maxBlock / s)
        var done = 0
        while done < chunks {
            let count = min(group, chunks - done)
            let slice = Tensor(viewing: rows, offset: done * s * c, shape: [count * s, c])
            if let encoded = model.encodeChunks(hidden: slice, chunkCount: count) {
                try memory.append(encoded, chunks: count)
            }
            done += count
        }
        pendingChunk.reset(firstPosition: 0)
        pendingChunk.append(hidden.data + fromBlock * c, rows: n - fromBlock)
    }

    /// Runs `tokens` through every layer of a landmark model; the logits of the last one.
    private func landmarkLogits(_ stream: LandmarkStream, _ tokens: [Int32]) throws -> [Float] {
        let hidden = try stream.consume(tokens)
        // `head` reads through a pointer: the row must outlive the call.
        return withExtendedLifetime(hidden) { head(hidden.data) }
    }

    /// Appends H rows to the tail and drops what the upper decoder can no longer need.
    private func appendMiddle(_ hidden: Tensor, rows n: Int) {
        if middle.count == 0 { middle.reset(firstPosition: position) }
        middle.append(hidden.data, rows: n)
        if let tailLength { middle.keepLast(tailLength) }
    }

    /// Runs the upper decoder over the kept tail of H: fresh upper windows that end at the
    /// current position, and the logits of the last position.
    ///
    /// When the tail does not start at position 0, the first `span` rows of every layer's
    /// output are inexact (their windows reach before the tail); layer j therefore skips the
    /// first j * span tail rows, and every row it does process has an exact input.
    private func rebuildUpper() throws {
        let c = config.dModel
        let tailStart = middle.firstPosition
        var rows = middle.count
        var first = tailStart
        let current = Tensor(shape: [rows, c])
        backend.copy(current.data, middle.rows, count: rows * c)
        var input = current
        upperStates = []
        for j in weights.upper.indices {
            if j > 0, tailStart > 0, let span = upperSpan {
                // Drop the rows whose inputs are inexact (keep at least the last row).
                let drop = min(span, rows - 1)
                input = Tensor(viewing: input, offset: drop * c, shape: [rows - drop, c])
                rows -= drop
                first += drop
            }
            let state = LayerState(config: config, firstPosition: first)
            var done = 0
            while done < rows {
                let n = min(maxBlock, rows - done)
                let block = Tensor(viewing: input, offset: done * c, shape: [n, c])
                try layer.forward(
                    block, rows: n, firstPosition: first + done, weights: weights.upper[j],
                    hsa: weights.hsa[j], state: state, memory: memory)
                done += n
            }
            upperStates.append(state)
        }
        lastLogits = head(input.data + (rows - 1) * c)
        upperCurrent = true
    }

    /// Fresh, empty upper-layer states whose first row will sit at `firstPosition`.
    private func freshUpperStates(firstPosition: Int) -> [LayerState] {
        weights.upper.map { _ in LayerState(config: config, firstPosition: firstPosition) }
    }

    /// Final RMSNorm and lm_head of one row (C) -> logits (V), copied to the host.
    private func head(_ row: UnsafePointer<Float>) -> [Float] {
        let c = config.dModel
        let normed = Tensor(shape: [1, c])
        layer.rmsNorm(normed.data, normed: row, weight: weights.finalNorm, rows: 1)
        let logits = Tensor(shape: [1, config.vocabSize])
        layer.linear(logits.data, normed.data, weights.head, rows: 1)
        return logits.toArray()
    }

    private func validate(_ tokens: [Int32]) throws {
        for (i, token) in tokens.enumerated() where token < 0 || Int(token) >= config.vocabSize {
            throw InferenceError.invalidToken(
                token: token, position: position + i, vocabularySize: config.vocabSize)
        }
    }
}
