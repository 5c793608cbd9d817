import HSACore

// The recurrent form of a `mixer: mamba2` model: the training forward of each layer, run block
// by block with the layer's `Mamba2State` (streaming inference, state passing in training).

extension LanguageModel {
    /// Fresh states (the start of `batch` sequences), one per Mamba2 layer; empty for other
    /// models.
    public func mamba2States(batch: Int = 1) -> [Mamba2State] {
        weights.mamba2.map { _ in Mamba2State(config: config, batch: batch) }
    }

    /// The output (rows, C) of Mamba2 layer `weights` for `input` (rows, C): rows at consecutive
    /// positions of one sequence, continuing where `state` ended; `state` advances past them.
    public func mamba2Block(
        _ input: Tensor, rows: Int, weights: Mamba2LayerWeights, state: Mamba2State
    ) -> Tensor {
        let out = Tensor(shape: [rows, config.dModel])
        _ = mamba2Layer.forward(
            out: out, input: input, weights: weights, batch: 1, sequenceLength: rows,
            state: state)
        return out
    }
}
