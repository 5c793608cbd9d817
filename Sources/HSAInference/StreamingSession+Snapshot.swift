import HSAModel

// Saving a session's state and continuing from it later (in another process): what a
// document memory stores next to its chunk keys/values.

extension StreamingSession {
    /// The state this session continues from (see `StreamingSnapshot`), copied to host memory.
    /// The chunk keys/values are not copied: they stay in `memory.store`.
    /// - Throws: `InferenceError.snapshotNeedsCPU` for a session on an accelerator.
    public func snapshot() throws -> StreamingSnapshot {
        guard !isAccelerated else { throw InferenceError.snapshotNeedsCPU }
        guard !config.usesMamba2 else {
            throw InferenceError.snapshotUnsupportedMixer(config.mixer.rawValue)
        }
        guard !config.usesLandmarks else {
            throw InferenceError.snapshotUnsupportedAttention(config.attention.rawValue)
        }
        return StreamingSnapshot(
            position: position,
            lowerWindows: lowerStates.map { state in
                StreamingSnapshot.Window(
                    firstPosition: state.keys.firstPosition, keys: state.keys.hostRows,
                    values: state.values.hostRows)
            },
            pendingChunk: pendingChunk.hostRows,
            tail: StreamingSnapshot.Rows(
                firstPosition: middle.firstPosition, values: middle.hostRows),
            landmarks: memory?.landmarkRows.hostRows ?? [])
    }

    /// A session that continues from `snapshot` exactly as the session it was taken from
    /// would have: the same logits, bit for bit, for the same next calls. `store` holds the
    /// snapshot's chunk keys/values (nil for a model without chunk memory); new chunks are
    /// appended to it.
    ///
    /// Every size in the snapshot is checked against the model first, so a snapshot of another
    /// model is an error rather than an out-of-bounds read later.
    /// - Throws: `InferenceError.snapshotNeedsCPU` when the current backend is an accelerator,
    ///   `InferenceError.snapshotMismatch` when the snapshot does not fit the model.
    public convenience init(
        model: LanguageModel, restoring snapshot: StreamingSnapshot, store: (any HostKVStore)?,
        maxBlock: Int = 1024
    ) throws {
        try Self.checkSupported(model.config)
        guard !model.config.usesMamba2 else {
            throw InferenceError.snapshotUnsupportedMixer(model.config.mixer.rawValue)
        }
        guard !model.config.usesLandmarks else {
            throw InferenceError.snapshotUnsupportedAttention(model.config.attention.rawValue)
        }
        let layer = StreamingLayer(config: model.config)
        guard layer.accelerator == nil else { throw InferenceError.snapshotNeedsCPU }
        var memory: ChunkMemory?
        if model.config.usesHSA {
            guard let store else {
                throw InferenceError.snapshotMismatch(reason: "no key/value store given")
            }
            memory = ChunkMemory(config: model.config, store: store, landmarks: snapshot.landmarks)
        }
        self.init(model: model, layer: layer, memory: memory, maxBlock: maxBlock)
        try check(snapshot)
        position = snapshot.position
        for (state, window) in zip(lowerStates, snapshot.lowerWindows) {
            state.keys.restore(firstPosition: window.firstPosition, rows: window.keys)
            state.values.restore(firstPosition: window.firstPosition, rows: window.values)
        }
        pendingChunk.restore(firstPosition: 0, rows: snapshot.pendingChunk)
        middle.restore(firstPosition: snapshot.tail.firstPosition, rows: snapshot.tail.values)
    }

    /// Throws unless `snapshot` holds exactly what this session would hold after
    /// `snapshot.position` tokens (the counts the layers rely on without checking).
    private func check(_ snapshot: StreamingSnapshot) throws {
        func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
            if !condition { throw InferenceError.snapshotMismatch(reason: reason()) }
        }
        let position = snapshot.position
        let (c, s) = (config.dModel, config.chunkSize)
        try require(position >= 0, "position \(position) is negative")
        try require(
            snapshot.lowerWindows.count == config.nLowerLayers,
            "\(snapshot.lowerWindows.count) lower-layer windows, the model has "
                + "\(config.nLowerLayers) lower layers")
        let windowWidth = config.nKvHeads * config.headDim
        let windowRows = min(position, StreamingLayer(config: config).keptKeys ?? position)
        for (l, window) in snapshot.lowerWindows.enumerated() {
            try require(
                window.keys.count == windowRows * windowWidth
                    && window.values.count == windowRows * windowWidth
                    && window.firstPosition == position - windowRows,
                "lower layer \(l)'s window must hold positions \(position - windowRows)"
                    + "..<\(position) of \(windowWidth) floats")
        }
        let tailRows = min(position, tailLength ?? position)
        try require(
            snapshot.tail.values.count == tailRows * c
                && snapshot.tail.firstPosition == position - tailRows,
            "the tail must hold positions \(position - tailRows)..<\(position) of \(c) floats")
        let chunks = memory == nil ? 0 : position / s
        let pendingRows = memory == nil ? 0 : position % s
        try require(
            snapshot.pendingChunk.count == pendingRows * c,
            "the incomplete chunk must hold \(pendingRows) rows of \(c) floats")
        try require(
            snapshot.landmarks.count == chunks * config.resolvedRetrievalDim,
            "\(chunks) chunks need \(chunks) landmarks of \(config.resolvedRetrievalDim) floats")
        if let store = memory?.store {
            try require(
                store.chunkCount == chunks,
                "the key/value store holds \(store.chunkCount) chunks, position \(position) "
                    + "needs \(chunks)")
            try require(
                store.recordFloats == 2 * s * windowWidth,
                "the key/value store's records hold \(store.recordFloats) floats, the model's "
                    + "\(2 * s * windowWidth)")
        }
    }
}
