import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue a prompt with a trained model, streaming tokens as they come.")

        @Option(help: "Checkpoint directory (config.json + model.safetensors).")
        var model: String
        @Option(help: "Prompt text.")
        var prompt: String?
        @Option(help: "Read the prompt from this file ('-' for stdin).")
        var promptFile: String?
        @Option var maxTokens: Int = 200
        @Option(help: "0 for greedy decoding.")
        var temperature: Double = 0
        @Option(help: "Sample among the k most likely tokens (0: all).")
        var topK: Int = 0
        @Option(help: "Sample from the smallest set with this probability mass.")
        var topP: Double = 1
        @Option var seed: UInt64 = 0
        @Option(help: "Tokens of context the model sees per step (default: max_train_len).")
        var context: Int?

        func validate() throws {
            guard maxTokens >= 0, temperature >= 0, topK >= 0, topP > 0, topP <= 1 else {
                throw ValidationError(
                    "need --max-tokens >= 0, --temperature >= 0, --top-k >= 0, 0 < --top-p <= 1")
            }
        }

        func run() throws {
            let promptText: String
            if let promptFile {
                let data =
                    promptFile == "-"
                    ? FileHandle.standardInput.readDataToEndOfFile()
                    : try readFile(promptFile)
                promptText = String(decoding: data, as: UTF8.self)
            } else {
                promptText = prompt ?? ""
            }
            let directory = URL(fileURLWithPath: model)
            let network = try LanguageModel.load(from: directory)
            let tokenizer = try loadTokenizer(directory: directory)
            let promptTokens = [tokenizer.bos] + tokenizer.encode(promptText)
            for token in promptTokens where token < 0 || Int(token) >= network.config.vocabSize {
                throw UserError("prompt token \(token) is outside the model's vocabulary")
            }
            var sampler = Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
            var pending: [Int32] = []
            network.generate(
                prompt: promptTokens, maxTokens: maxTokens, sampler: &sampler,
                contextLimit: context ?? network.config.maxTrainLen, stopToken: tokenizer.eos
            ) { token in
                // Bytes of one UTF-8 character may arrive over several tokens.
                pending.append(token)
                let text = tokenizer.decode(pending)
                if !text.contains("\u{FFFD}") || pending.count >= 4 {
                    Terminal.writeOutput(text)
                    pending.removeAll()
                }
                return true
            }
            if !pending.isEmpty { Terminal.writeOutput(tokenizer.decode(pending)) }
            Terminal.printLine("")
        }
    }
}

/// The checkpoint's tokenizer.json, or the byte tokenizer when the checkpoint has none.
func loadTokenizer(directory: URL) throws -> any Tokenizer {
    let url = directory.appendingPathComponent("tokenizer.json")
    guard FileManager.default.fileExists(atPath: url.path) else { return ByteTokenizer() }
    return try TokenizerLoader.load(from: url)
}

/// The contents of `path`, or an error naming it.
func readFile(_ path: String) throws -> Foundation.Data {
    do { return try Foundation.Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw UserError("\(path): cannot read (\(error.localizedDescription))")
    }
}
