import HSACore

// The recurrent form of a `mixer: mamba2` model for streaming inference: the training forward
// of each layer, run block by block over one sequence with the layer's `Mamba2State`.

extension LanguageModel {
    /// Fresh states (the start of a sequence), one per Mamba2 layer; empty for other models.
    public func mamba2States() -> [Mamba2State] {
        config.usesMamba2 ? inferenceWeights.mamba2.map { _ in Mamba2State(config: config) } : []
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
