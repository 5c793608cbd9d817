import ArgumentParser
import HSA

/// The options `hsa data synth` and `hsa data tasks` share: sample lengths in tokens of the
/// tokenizer the shards are written in, the seed and the shard size.
struct SampleShardOptions: ParsableArguments {
    @Option(help: "Comma-separated lengths in tokens of --tokenizer (at most 4K each).")
    var lengths: String = "1K,2K,4K"
    @OptionGroup var tokenizer: DataTokenizerOption
    @Option var seed: UInt64 = 0
    @Option(help: "Tokens per shard file.")
    var shardTokens: Int = 16 << 20

    /// `--lengths` in tokens; `command` names the data command in messages.
    func lengthList(command: String) throws -> [Int] {
        try HSACommand.DataCommand.parseSampleLengths(lengths, command: command)
    }
}
