import HSACore

// The ops of `CUDAManagedBackend`: GPU launchers over borrowed views of managed memory, host
// index arrays staged to the device in stream order (see the file header of
// CUDAManagedBackend.swift). Contracts are those of the `CPU.*` function of the same name.

// MARK: - Elementwise and reductions

extension CUDAManagedBackend {
    public func add(
        out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        count: Int
    ) {
        if count == 0 { return }
        run("add") {
            try gpu.launch(
                "hsa_add_v1", in: .vector, grid: (gpu.gridStrideBlocks(count), 1), block: 256,
                [.buffer(view(out)), .buffer(view(a)), .buffer(view(b)), .int64(Int64(count))])
        }
    }

    public func accumulate(
        _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int
    ) {
        if count == 0 { return }
        run("accumulate") {
            try gpu.launch(
                "hsa_accumulate_v1", in: .vector, grid: (gpu.gridStrideBlocks(count), 1),
                block: 256, [.buffer(view(dst)), .buffer(view(src)), .int64(Int64(count))])
        }
    }

    public func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        if count == 0 { return }
        run("scale") {
            try gpu.launch(
                "hsa_scale_v1", in: .vector, grid: (gpu.gridStrideBlocks(count), 1), block: 256,
                [.buffer(view(x)), .float(factor), .int64(Int64(count))])
        }
    }

    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        if count == 0 { return 0 }
        // A fixed number of blocks, so the partials and their host sum are deterministic.
        let blocks = 1024
        var total = 0.0
        run("sumOfSquares") {
            let partials = try DeviceBuffer(device: device, byteCount: blocks * 8)
            try gpu.launch(
                "hsa_sum_of_squares_partial_v1", in: .vector, grid: (blocks, 1), block: 256,
                [.buffer(partials), .buffer(view(x)), .int64(Int64(count))])
            try gpu.synchronize()
            let halves = try partials.downloadInt32s(count: blocks * 2)
            let values = halves.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
            for value in values { total += value }
        }
        return total
    }

    public func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        // Loss totals are (B*T) values: summing them on the host in index order matches the
        // CPU exactly and costs one small page migration.
        synchronize()
        return hostSum(x, count: count)
    }

    public func adamWUpdate(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
        step: Int
    ) {
        run("adamWUpdate") {
            try gpu.adamWUpdate(
                parameters: view(parameters), gradients: view(gradients), m: view(m), v: view(v),
                count: count, learningRate: learningRate, beta1: beta1, beta2: beta2,
                epsilon: epsilon, weightDecay: weightDecay, step: step)
        }
    }
}

// MARK: - Dense layers

extension CUDAManagedBackend {
    public func matmulForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) {
        run("matmulForward") {
            try gpu.matmulForward(
                out: view(out), input: view(input), weight: view(weight), bias: view(bias),
                rows: rows, inputChannels: inputChannels, outputChannels: outputChannels)
        }
    }

    public func matmulBackward(
        dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) {
        run("matmulBackward") {
            try gpu.matmulBackward(
                dInput: view(dInput.map { UnsafePointer($0) }), dWeight: view(dWeight),
                dBias: view(dBias.map { UnsafePointer($0) }), dOut: view(dOut),
                input: view(input), weight: view(weight), rows: rows,
                inputChannels: inputChannels, outputChannels: outputChannels)
        }
    }

    public func rmsNormForward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, channels: Int,
        eps: Float
    ) {
        run("rmsNormForward") {
            try gpu.rmsNormForward(
                out: view(out), rstd: view(rstd), input: view(input), weight: view(weight),
                rows: rows, channels: channels, eps: eps)
        }
    }

    public func rmsNormBackward(
        dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rstd: UnsafePointer<Float>, rows: Int, channels: Int
    ) {
        run("rmsNormBackward") {
            try gpu.rmsNormBackward(
                dInput: view(dInput), dWeight: view(dWeight), dOut: view(dOut),
                input: view(input), weight: view(weight), rstd: view(rstd), rows: rows,
                channels: channels)
        }
    }

    /// Plain RoPE lets the kernel compute theta^(-2i/HS); YaRN's stretched frequencies come
    /// from the host (as on the CPU) in a staged table of HS/2 doubles.
    public func rope(
        _ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, rows: Int, heads: Int,
        headDim: Int, rotary: RotaryEmbedding, direction: RopeDirection
    ) {
        run(direction == .forward ? "ropeForward" : "ropeBackward") {
            try withStaged(positions, count: rows) { staged in
                func rotate(_ frequencies: CUDABackend.RopeFrequencies) throws {
                    try gpu.rope(
                        view(x), positions: staged, rows: rows, heads: heads, headDim: headDim,
                        frequencies: frequencies, direction: direction)
                }
                guard rotary.yarn != nil else { return try rotate(.base(Float(rotary.theta))) }
                let words = CUDABackend.ropeTableWords(rotary.inverseFrequencies(headDim: headDim))
                try words.withUnsafeBufferPointer { buffer in
                    guard let first = buffer.baseAddress else { return }
                    try withStaged(first, count: buffer.count) { table in
                        try rotate(.table(table, scale: rotary.scale))
                    }
                }
            }
        }
    }

    public func swigluForward(
        out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int
    ) {
        run("swigluForward") {
            try gpu.swigluForward(out: view(out), gate: view(gate), up: view(up), count: count)
        }
    }

    public func swigluBackward(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int
    ) {
        run("swigluBackward") {
            try gpu.swigluBackward(
                dGate: view(dGate), dUp: view(dUp), dOut: view(dOut), gate: view(gate),
                up: view(up), count: count)
        }
    }

    public func embeddingForward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
        table: UnsafePointer<Float>, rows: Int, channels: Int
    ) {
        run("embeddingForward") {
            try withStaged(tokens, count: rows) { staged in
                try gpu.embeddingForward(
                    out: view(out), tokens: staged, table: view(table), rows: rows,
                    channels: channels)
            }
        }
    }

    public func embeddingBackward(
        dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, rows: Int, channels: Int
    ) {
        run("embeddingBackward") {
            // The tokens are sorted on the GPU in a pooled block: no host round trip.
            try withStaged(tokens, count: rows) { staged in
                let bytes = CUDABackend.embeddingBackwardWorkspaceBytes(rows: rows)
                try withWorkspace(bytes: bytes) { workspace in
                    try gpu.embeddingBackward(
                        dTable: view(dTable), dOut: view(dOut), tokens: staged, rows: rows,
                        channels: channels, workspace: workspace)
                }
            }
        }
    }

    public func crossEntropyForward(
        losses: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rows: Int, vocab: Int
    ) {
        run("crossEntropyForward") {
            try withStaged(targets, count: rows) { staged in
                try gpu.crossEntropyForward(
                    losses: view(losses), logits: view(logits), targets: staged, rows: rows,
                    vocab: vocab)
            }
        }
    }

    public func crossEntropyBackward(
        dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rowScale: UnsafePointer<Float>, rows: Int, vocab: Int
    ) {
        run("crossEntropyBackward") {
            try withStaged(targets, count: rows) { stagedTargets in
                try withStaged(rowScale, count: rows) { stagedScale in
                    try gpu.crossEntropyBackward(
                        dLogits: view(dLogits), logits: view(logits), targets: stagedTargets,
                        rowScale: stagedScale, rows: rows, vocab: vocab)
                }
            }
        }
    }
}

// MARK: - Attention

extension CUDAManagedBackend {
    public func attentionForward(
        out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        shape: AttentionShape
    ) {
        run("attentionForward") {
            try gpu.attentionForward(
                out: view(out), logSumExp: view(logSumExp), q: view(q), k: view(k), v: view(v),
                shape: shape)
        }
    }

    public func attentionBackward(
        dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>,
        dV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, shape: AttentionShape
    ) {
        run("attentionBackward") {
            // Scratch in a pooled block: the launcher then needs no wait.
            let bytes = CUDABackend.attentionBackwardWorkspaceBytes(shape)
            try withWorkspace(bytes: bytes) { scratch in
                try gpu.attentionBackward(
                    dQ: view(dQ), dK: view(dK), dV: view(dV), dOut: view(dOut), out: view(out),
                    logSumExp: view(logSumExp), q: view(q), k: view(k), v: view(v),
                    shape: shape, workspace: scratch)
            }
        }
    }
}
