import ArgumentParser

extension HSACommand {
    /// `hsa tokenizer`: train a byte-level BPE and run any tokenizer.json on text.
    struct TokenizerCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tokenizer",
            abstract: "Train a byte-level BPE tokenizer; encode and decode with a tokenizer.json.",
            subcommands: [TokenizerTrain.self, TokenizerEncode.self, TokenizerDecode.self])
    }
}
