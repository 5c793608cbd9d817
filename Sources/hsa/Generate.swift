import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue a prompt with a trained model, streaming tokens as they come.")

        @Option(help: "Checkpoint directory (config.json + model.safetensors).")
        var model: String
        @OptionGroup var prompt: PromptOptions
        @OptionGroup var sampling: SamplingOptions

        func run() throws {
            let promptText = String(decoding: try prompt.bytes(), as: UTF8.self)
            let directory = URL(fileURLWithPath: model)
            let network = try LanguageModel.load(from: directory)
            try sampling.check(vocabularySize: network.config.vocabSize)
            let tokenizer = try TokenizerLoader.load(checkpoint: directory)
            let promptTokens = [tokenizer.bos] + tokenizer.encode(promptText)
            for token in promptTokens where token < 0 || Int(token) >= network.config.vocabSize {
                throw UserError("prompt token \(token) is outside the model's vocabulary")
            }
            // The streaming engine: exact, and each new token costs O(W + K*S + chunks).
            let session = try StreamingSession(model: network)
            try session.prefill(tokens: promptTokens)
            try printContinuation(of: session, sampling: sampling, tokenizer: tokenizer)
        }
    }
}
