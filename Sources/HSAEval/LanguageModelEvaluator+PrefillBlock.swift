import HSACore
import HSAData
import HSAModel

extension LanguageModelEvaluator {
    /// Wraps `model`, answering in `tokenizer`'s tokens until its EOS, with prefill blocks of
    /// `prefillBlock` tokens, or by default ones that suit the backend: the evaluator's own
    /// default on the CPU; on an accelerator 65536, or one block for the whole prompt of a
    /// dense model (there each block's attention also recomputes every cached row's:
    /// quadratic per block).
    public convenience init(
        model: LanguageModel, tokenizer: any Tokenizer, maximumLength: Int, prefillBlock: Int?
    ) {
        self.init(
            model: model, tokenizer: tokenizer, stopToken: tokenizer.eos,
            maximumLength: maximumLength)
        let accelerated = ComputeBackends.current is any StreamingAccelerator
        let acceleratorBlock = model.config.attention == .full ? 1 << 30 : 1 << 16
        if let block = prefillBlock ?? (accelerated ? acceleratorBlock : nil) {
            self.prefillBlock = block
        }
    }
}
