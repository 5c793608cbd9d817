import ArgumentParser
import Foundation
import HSA

extension HSACommand.TokenizerCommand {
    /// `hsa tokenizer encode`: the ids of a text, for checks against other implementations.
    struct TokenizerEncode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "encode",
            abstract: "Print the token ids of a text file (no BOS/EOS added).")

        @Option(help: "A tokenizer.json, or a directory holding one.")
        var tokenizer: String
        @Flag(help: "Print the ids as a JSON array instead of one line separated by spaces.")
        var json = false
        @Argument(help: "The text file ('-' for stdin).")
        var file: String

        func run() throws {
            let tokenizer = try TokenizerLoader.load(fileOrDirectory: self.tokenizer)
            Terminal.printLine(TokenIDText.format(tokenizer.encode(try readText(file)), json: json))
        }
    }

    /// `hsa tokenizer decode`: the text of a list of ids.
    struct TokenizerDecode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode",
            abstract: "Print the text of token ids (a JSON array or ids separated by spaces).")

        @Option(help: "A tokenizer.json, or a directory holding one.")
        var tokenizer: String
        @Argument(help: "The file of ids ('-' for stdin).")
        var file: String

        func run() throws {
            let tokenizer = try TokenizerLoader.load(fileOrDirectory: self.tokenizer)
            let ids = try TokenIDText.parse(try readText(file), source: file)
            Terminal.writeOutput(tokenizer.decode(ids))
        }
    }
}

/// The text of `path` ('-': all of stdin), invalid UTF-8 read as U+FFFD.
private func readText(_ path: String) throws -> String {
    if path == "-" {
        return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
    try requireInputFile(path, option: "file")
    return String(decoding: try readFile(path), as: UTF8.self)
}
