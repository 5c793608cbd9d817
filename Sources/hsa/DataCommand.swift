import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct DataCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data",
            abstract: "Prepare token shards from text.",
            subcommands: [Prepare.self, DataSynth.self, DataTasks.self, DataMix.self])
    }
}

extension HSACommand.DataCommand {
    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokenize text files or directories into train/validation token shards.",
            discussion: """
                Every file is one document (BOS + bytes + EOS). Documents are split into \
                train and validation by a hash of their path, so the split is stable. Writes \
                train-NNNNN.bin, val-NNNNN.bin and manifest.json into --out.
                """)

        @Argument(help: "Text files or directories (read recursively: .txt, .md, .rst).")
        var inputs: [String]
        @Option(help: "Output directory.")
        var out: String = "data/tokens"
        @Option(help: "Fraction of documents for validation.")
        var validationFraction: Double = 0.01
        @Option(help: "Tokens per shard file.")
        var shardTokens: Int = 64 * 1024 * 1024
        @OptionGroup var tokenizer: DataTokenizerOption

        func validate() throws {
            guard (0...1).contains(validationFraction) else {
                throw ValidationError("--validation-fraction must be in [0, 1]")
            }
            guard shardTokens > 0 else { throw ValidationError("--shard-tokens must be > 0") }
        }

        func run() throws {
            try requireOutputDirectory(out, option: "--out")
            let preparer = DataPreparer(
                tokenizer: try tokenizer.load(),
                options: .init(validationFraction: validationFraction, shardTokens: shardTokens))
            let manifest = try preparer.prepare(
                inputs: inputs.map { URL(fileURLWithPath: $0) },
                outputDirectory: URL(fileURLWithPath: out))
            Terminal.printLine(manifest.reportLine(output: out))
        }
    }
}

extension HSACommand.DataCommand {
    /// `--lengths` of a command that writes training samples: a list of context lengths, none
    /// above 4K (`command` names the limit in the message: synth, tasks).
    static func parseSampleLengths(_ lengths: String, command: String) throws -> [Int] {
        let lengthList = try ContextLength.parseList(lengths)
        if let long = lengthList.first(where: { $0 > 4096 }) {
            throw ValidationError("--lengths: \(long) is above 4K, the \(command) limit")
        }
        return lengthList
    }
}
