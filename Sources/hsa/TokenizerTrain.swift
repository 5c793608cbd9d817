import ArgumentParser
import Foundation
import HSA

extension HSACommand.TokenizerCommand {
    /// `hsa tokenizer train`: learns merges from text files and writes DIR/tokenizer.json.
    struct TokenizerTrain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Learn a byte-level BPE (GPT-2 style) and write OUT/tokenizer.json.",
            discussion: """
                Files named directly and the .txt, .md and .rst files of directories (in path \
                order) are read until --sample-bytes; each file is one document. Ids 0-255 are \
                the bytes, merges follow in the order learned, then <|bos|>, <|eos|>, <|pad|>. \
                The file is the Hugging Face tokenizer.json format (see docs/TOKENIZER.md).
                """)

        @Argument(help: "Text files or directories.")
        var inputs: [String]
        @Option(help: "Vocabulary size: 256 bytes + merges + 3 specials (at least 259).")
        var vocabSize: Int = 8192
        @Option(help: "Read at most this many bytes of text (default: all).")
        var sampleBytes: Int?
        @Option(help: "Do not merge a pair seen fewer times than this.")
        var minPairCount: Int = 2
        @Option(help: "Output directory (tokenizer.json is written into it).")
        var out: String

        func validate() throws {
            if let sampleBytes, sampleBytes <= 0 {
                throw ValidationError("--sample-bytes must be > 0")
            }
            guard minPairCount >= 1 else { throw ValidationError("--min-pair-count must be >= 1") }
        }

        func run() throws {
            try requireOutputDirectory(out, option: "--out")
            var trainer = try BPETrainer(vocabularySize: vocabSize, minimumPairCount: minPairCount)
            let start = Date()
            let files = try trainer.addFiles(
                inputs.map { URL(fileURLWithPath: $0) }, sampleBytes: sampleBytes)
            let counted = Date()
            let tokenizer = trainer.train()
            let trained = Date()
            let directory = URL(fileURLWithPath: out)
            do {
                try FileManager.default.createDirectory(
                    at: directory, withIntermediateDirectories: true)
            } catch {
                throw UserError("--out \(out): cannot create (\(fileErrorReason(error)))")
            }
            try tokenizer.save(to: directory.appendingPathComponent("tokenizer.json"))
            Terminal.printLine(
                trainer.reportLine(
                    files: files, tokenizer: tokenizer,
                    countSeconds: counted.timeIntervalSince(start),
                    mergeSeconds: trained.timeIntervalSince(counted),
                    output: directory.appendingPathComponent("tokenizer.json")))
        }
    }
}
