import HSACore

// What the CPU kernels of SSDScan.swift and SSDScanBackward.swift need of their shape before
// any work: the checks, the sizes in the one-letter names those kernels are written in, and one
// (batch row, head) sequence's view of the inputs.

extension SSDShape {
    /// Traps on sizes the SSD kernels cannot run, else the sizes they read and HG = H / G.
    func checkedSizes() -> (
        batch: Int, T: Int, H: Int, P: Int, G: Int, N: Int, L: Int, HG: Int
    ) {
        precondition(batch >= 0 && sequenceLength >= 0 && heads > 0 && headDim > 0)
        precondition(groups > 0 && stateDim > 0 && chunkLength > 0)
        precondition(heads % groups == 0, "heads \(heads) must be a multiple of groups \(groups)")
        return (
            batch, sequenceLength, heads, headDim, groups, stateDim, chunkLength,
            heads / groups
        )
    }
}

/// One (batch row b, head h) sequence of the scan: its scalars and where its tokens live in
/// each input. Token t of x is `x + t * xStride` (P contiguous values), of dt `dt[t * H]`, of
/// B and C (group g = h / HG) `B + t * projectionStride` (N contiguous values).
struct SSDHeadSequence {
    let x: UnsafePointer<Float>
    let dt: UnsafePointer<Float>
    let B: UnsafePointer<Float>
    let C: UnsafePointer<Float>
    /// A[h] and D[h].
    let a: Float
    let d: Float
    /// H * P, H and G * N.
    let xStride: Int
    let dtStride: Int
    let projectionStride: Int
    /// P and N.
    let headDim: Int
    let stateDim: Int

    init(_ inputs: SSDInputs, shape: SSDShape, batchRow b: Int, head h: Int) {
        let (T, H, P, G, N) = (
            shape.sequenceLength, shape.heads, shape.headDim, shape.groups, shape.stateDim
        )
        let g = h / shape.headsPerGroup
        x = inputs.x + (b * T * H + h) * P
        dt = inputs.dt + b * T * H + h
        B = inputs.B + (b * T * G + g) * N
        C = inputs.C + (b * T * G + g) * N
        (a, d) = (inputs.A[h], inputs.D[h])
        (xStride, dtStride, projectionStride) = (H * P, H, G * N)
        (headDim, stateDim) = (P, N)
    }

    func x(_ t: Int) -> UnsafePointer<Float> { x + t * xStride }
    func dt(_ t: Int) -> Float { dt[t * dtStride] }
    func B(_ t: Int) -> UnsafePointer<Float> { B + t * projectionStride }
    func C(_ t: Int) -> UnsafePointer<Float> { C + t * projectionStride }
}
