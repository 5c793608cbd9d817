import ArgumentParser
import Foundation
import HSA

/// `--tokenizer FILE_OR_DIR`, the tokenizer a data command writes shards in (`data prepare`,
/// `synth`, `tasks`).
struct DataTokenizerOption: ParsableArguments {
    @Option(
        help: """
            A tokenizer.json, or a directory holding one (hsa tokenizer train); default: \
            bytes. Train with --vocab-size at least its size; checkpoints keep it.
            """)
    var tokenizer: String?

    /// The tokenizer named, or the byte tokenizer.
    func load() throws -> any Tokenizer {
        try tokenizer.map(TokenizerLoader.load(fileOrDirectory:)) ?? ByteTokenizer()
    }
}
