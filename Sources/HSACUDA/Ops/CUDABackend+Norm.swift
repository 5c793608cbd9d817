// RMSNorm launchers. Letters: N rows, C channels.

// MARK: - Forward

extension CUDABackend {
    /// RMSNorm forward (same contract as `CPU.rmsNormForward`): `out = input * rstd * weight`.
    /// - Parameters:
    ///   - out: (N, C) overwritten.
    ///   - rstd: (N) reciprocal RMS per row, overwritten.
    ///   - input: (N, C).
    ///   - weight: (C).
    ///   - rows: N.
    ///   - channels: C.
    ///   - eps: added to the mean square.
    public func rmsNormForward(
        out: DeviceBuffer, rstd: DeviceBuffer, input: DeviceBuffer, weight: DeviceBuffer,
        rows: Int, channels: Int, eps: Float = 1e-6
    ) throws {
        try require(out, rows * channels, "out")
        try require(rstd, rows, "rstd")
        try require(input, rows * channels, "input")
        try require(weight, channels, "weight")
        let warpPerRow = Self.rowsVectorize(channels, [out, input, weight])
        try launch(
            warpPerRow ? "hsa_rmsnorm_forward_v2" : "hsa_rmsnorm_forward_v1", in: .norm,
            grid: (warpPerRow ? (rows + 7) / 8 : rows, 1), block: 256,
            [
                .buffer(out), .buffer(rstd), .buffer(input), .buffer(weight), .int(Int32(rows)),
                .int(Int32(channels)), .float(eps),
            ])
    }
}

// MARK: - Backward

extension CUDABackend {
    /// RMSNorm backward (same contract as `CPU.rmsNormBackward`); both outputs ACCUMULATE.
    /// `dWeight` is reduced deterministically: rows in chunks of 64 summed in row order, then
    /// the chunk sums in chunk order.
    /// - Parameters:
    ///   - dInput: (N, C) accumulated into.
    ///   - dWeight: (C) accumulated into.
    ///   - dOut: (N, C).
    ///   - input: (N, C).
    ///   - weight: (C).
    ///   - rstd: (N) from the forward.
    ///   - rows: N.
    ///   - channels: C.
    public func rmsNormBackward(
        dInput: DeviceBuffer, dWeight: DeviceBuffer, dOut: DeviceBuffer, input: DeviceBuffer,
        weight: DeviceBuffer, rstd: DeviceBuffer, rows: Int, channels: Int
    ) throws {
        try require(dInput, rows * channels, "dInput")
        try require(dWeight, channels, "dWeight")
        try require(dOut, rows * channels, "dOut")
        try require(input, rows * channels, "input")
        try require(rstd, rows, "rstd")
        let warpPerRow = Self.rowsVectorize(channels, [dInput, dOut, input, weight])
        try launch(
            warpPerRow ? "hsa_rmsnorm_backward_input_v2" : "hsa_rmsnorm_backward_input_v1",
            in: .norm, grid: (warpPerRow ? (rows + 7) / 8 : rows, 1), block: 256,
            [
                .buffer(dInput), .buffer(dOut), .buffer(input), .buffer(weight), .buffer(rstd),
                .int(Int32(rows)), .int(Int32(channels)),
            ])
        try columnSum(
            into: dWeight, a: dOut, b: input, rowScale: rstd, rows: rows, channels: channels)
    }

    /// `out[c] += Σ_n a[n, c] * b[n, c] * rowScale[n]` (b and rowScale optional), summed in a
    /// fixed order: chunks of `columnChunkRows` rows, then chunks in order.
    func columnSum(
        into out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer?, rowScale: DeviceBuffer?,
        rows: Int, channels: Int
    ) throws {
        if rows == 0 || channels == 0 { return }
        let chunks = (rows + Self.columnChunkRows - 1) / Self.columnChunkRows
        let partial = try scratch(floats: chunks * channels)
        let columnBlocks = (channels + 255) / 256
        // Grid y is limited to 65535 chunks: 4M rows at 64 rows per chunk.
        try launch(
            "hsa_column_partial_v1", in: .norm, grid: (columnBlocks, chunks), block: 256,
            [
                .buffer(partial), .buffer(a), b.map { .buffer($0) } ?? .null,
                rowScale.map { .buffer($0) } ?? .null, .int(Int32(rows)), .int(Int32(channels)),
                .int(Int32(Self.columnChunkRows)),
            ])
        try launch(
            "hsa_column_finish_v1", in: .norm, grid: (columnBlocks, 1), block: 256,
            [.buffer(out), .buffer(partial), .int(Int32(chunks)), .int(Int32(channels))])
    }

    /// Rows per partial sum in `columnSum`.
    static let columnChunkRows = 64
}

// MARK: - Helpers

extension CUDABackend {
    /// Throws when `buffer` holds fewer than `count` 4-byte elements.
    /// Whether (N, C) rows can be read as float4: C % 4 == 0 and 16-byte-aligned buffers
    /// (views into managed tensors may start anywhere).
    static func rowsVectorize(_ channels: Int, _ buffers: [DeviceBuffer]) -> Bool {
        channels % 4 == 0 && buffers.allSatisfy { $0.address % 16 == 0 }
    }

    func require(_ buffer: DeviceBuffer, _ count: Int, _ name: String) throws {
        guard buffer.count32 >= count else {
            throw CUDAError.invalidArgument(
                "\(name) holds \(buffer.count32) elements, expected at least \(count)")
        }
    }

    /// Blocks for a grid-stride loop over `count` elements with 256-thread blocks.
    func gridStrideBlocks(_ count: Int) -> Int {
        min((count + 255) / 256, device.multiprocessorCount * 16)
    }
}
