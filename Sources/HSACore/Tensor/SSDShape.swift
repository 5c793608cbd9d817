/// The sizes of one Mamba2 SSD (state-space duality) scan, `ssdScanForward` /
/// `ssdScanBackward`, in the letters of `SSDOperands.swift`: B `batch`, T `sequenceLength`,
/// H `heads`, P `headDim`, G `groups` (H a multiple of G: each group of H / G heads shares one
/// B and C), N `stateDim`, L `chunkLength` (the block of the chunked algorithm; the result does
/// not depend on it beyond fp32 rounding).
public struct SSDShape: Sendable, Equatable, CustomStringConvertible {
    public var batch, sequenceLength, heads, headDim, groups, stateDim: Int
    /// L: tokens per chunk of the chunked algorithm (the last chunk may be shorter).
    public var chunkLength: Int

    /// Creates a shape (checked by the backend that runs it).
    public init(
        batch: Int, sequenceLength: Int, heads: Int, headDim: Int, groups: Int, stateDim: Int,
        chunkLength: Int = 64
    ) {
        (self.batch, self.sequenceLength, self.heads, self.headDim) = (
            batch, sequenceLength, heads, headDim
        )
        (self.groups, self.stateDim, self.chunkLength) = (groups, stateDim, chunkLength)
    }

    /// H / G: heads per B/C group (head h reads group h / (H / G)).
    public var headsPerGroup: Int { heads / groups }
    /// ceil(T / L): chunks per sequence.
    public var chunkCount: Int { (sequenceLength + chunkLength - 1) / chunkLength }
    /// B * T * H * P: the entries of x and y.
    public var tokenCount: Int { batch * sequenceLength * heads * headDim }
    /// B * H * P * N: the entries of the initial and the final state.
    public var stateCount: Int { batch * heads * headDim * stateDim }
    /// B * T * G * N: the entries of B and of C.
    public var projectionCount: Int { batch * sequenceLength * groups * stateDim }

    public var description: String {
        "B=\(batch) T=\(sequenceLength) H=\(heads) P=\(headDim) G=\(groups) N=\(stateDim) "
            + "L=\(chunkLength)"
    }
}
