import ArgumentParser
import Foundation
import HSA

/// `--prompt TEXT` or `--prompt-file FILE` ('-' for stdin), for the commands that continue a
/// short prompt (`generate`, `ask`); `complete` streams prompts of any length instead.
struct PromptOptions: ParsableArguments {
    @Option(help: "Prompt text.")
    var prompt: String?
    @Option(help: "Read the prompt from this file ('-' for stdin).")
    var promptFile: String?

    /// Whether either option was given.
    var isGiven: Bool { prompt != nil || promptFile != nil }

    func validate() throws {
        if prompt != nil, promptFile != nil {
            throw ValidationError("give one of --prompt and --prompt-file, not both")
        }
    }

    /// The prompt's bytes: the file's (`PromptFile.contents`, stdin capped), the text's, or
    /// none when neither was given.
    func bytes() throws -> Data {
        if let promptFile {
            try requireInputFile(promptFile, option: "--prompt-file")
            return try PromptFile(path: promptFile).contents()
        }
        return Data((prompt ?? "").utf8)
    }
}
