import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    /// `hsa tokenizer`: train a byte-level BPE and run any tokenizer.json on text.
    struct TokenizerCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tokenizer",
            abstract: "Train a byte-level BPE tokenizer; encode and decode with a tokenizer.json.",
            subcommands: [TokenizerTrain.self, TokenizerEncode.self, TokenizerDecode.self])
    }
}

/// The tokenizer at `path`: a tokenizer.json file, or a directory holding one (a directory
/// without one has the byte tokenizer, as checkpoints of byte-level runs do).
func loadTokenizer(_ path: String) throws -> any Tokenizer {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw UserError("--tokenizer \(path): no such file or directory")
    }
    let url = URL(fileURLWithPath: path)
    if isDirectory.boolValue { return try TokenizerLoader.load(checkpoint: url) }
    return try TokenizerLoader.load(from: url)
}
