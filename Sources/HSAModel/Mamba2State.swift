import HSACore

/// What a `mixer: mamba2` layer carries from one block of a sequence to the next (its
/// recurrent form): the conv's last K - 1 input rows and the SSD state. A fresh state is all
/// zeros, which is exactly the start of a sequence, so a sequence run block by block through
/// one state equals the whole sequence run at once.
public final class Mamba2State {
    /// (B, K - 1, E + 2GN) the conv's input rows before the next block.
    public let convHistory: Tensor
    /// (B, H, P, N) the SSD state after the last row run.
    public let ssd: Tensor

    /// A state at the start of `batch` sequences.
    public init(config: ModelConfig, batch: Int = 1) {
        let historyRows = max(config.mambaConvKernel - 1, 0)
        convHistory = Tensor(shape: [batch, historyRows, config.mambaConvChannels])
        ssd = Tensor(shape: [
            batch, config.mambaHeads, config.mambaHeadDim, config.mambaStateDim,
        ])
    }

    private init(convHistory: Tensor, ssd: Tensor) {
        (self.convHistory, self.ssd) = (convHistory, ssd)
    }

    /// An independent copy of this state.
    public func copy() -> Mamba2State {
        let history = Tensor(shape: convHistory.shape)
        history.copy(from: convHistory)
        let state = Tensor(shape: ssd.shape)
        state.copy(from: ssd)
        return Mamba2State(convHistory: history, ssd: state)
    }

    /// Back to the start of every sequence (all zeros).
    public func reset() {
        convHistory.zero()
        ssd.zero()
    }

    /// The number of sequences B.
    public var batch: Int { ssd.shape[0] }

    /// Bytes held: constant in the sequence length.
    public var allocatedBytes: Int { (convHistory.count + ssd.count) * MemoryLayout<Float>.size }

    /// Keeps the last K - 1 conv inputs of history + `input` (B, T, E + 2GN) per sequence.
    func advanceConvHistory(input: UnsafePointer<Float>, length: Int) {
        let (kept, width) = (convHistory.shape[1], convHistory.shape[2])
        guard kept > 0 else { return }
        for b in 0..<batch {
            let history = convHistory.data + b * kept * width
            let fromInput = min(kept, length)
            let fromHistory = kept - fromInput
            // Rows of the old history that stay move to the front, then the input's last rows.
            if fromHistory > 0 {
                history.update(from: history + fromInput * width, count: fromHistory * width)
            }
            (history + fromHistory * width).update(
                from: input + (b * length + length - fromInput) * width,
                count: fromInput * width)
        }
    }
}
