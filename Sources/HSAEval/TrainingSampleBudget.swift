import Foundation
import HSAData

/// Training samples whose length counts a tokenizer's tokens: the whole written sample
/// (``SynthMixture/tokens(_:tokenizer:)``: BOS, prompt, answer, EOS) is at most the length and
/// within about 1% of it, so that samples of a subword tokenizer fill a training window as
/// byte samples do.
extension TokenBudgetFitter {
    /// A fitter that counts a training sample's answer and EOS against `length`.
    static func training(length: Int, tokenizer: any Tokenizer) -> TokenBudgetFitter {
        TokenBudgetFitter(length: length, tokenizer: tokenizer) {
            SynthMixture.answerTokens($0, tokenizer: tokenizer).count
        }
    }
}

extension TaskGenerator {
    /// Sample `index` of `task` as `hsa data synth` writes it: at most `length` tokens of
    /// `tokenizer` (BOS, prompt, answer, EOS) and within about 1% of it. The byte tokenizer
    /// gets exactly ``sample(_:length:index:seed:depth:)``, whose prompt leaves the task's
    /// whole reserve for generation (128 bytes for NIAH), so its samples may end earlier.
    /// - Throws: ``EvalError/lengthTooShort(task:length:minimum:)``,
    ///   ``EvalError/exceedsTokenBudget(task:length:tokens:)``, or what the task needs.
    public func trainingSample(
        _ task: EvalTask, length: Int, index: Int, seed: UInt64, tokenizer: any Tokenizer
    ) throws -> EvalSample {
        try TokenBudgetFitter.training(length: length, tokenizer: tokenizer).fit(
            task: task.name
        ) { byteLength in
            try sample(
                task, length: length, byteLength: byteLength, index: index, seed: seed, depth: nil)
        }
    }
}
