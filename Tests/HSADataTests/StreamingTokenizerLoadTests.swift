import Foundation
import HSAData
import HSATestSupport
import Testing

/// The tokenizer of a checkpoint that streamed prompts and documents are read with.
@Suite struct StreamingTokenizerLoadTests {
    @Test func loadsTheCheckpointsByteOrBPETokenizer() throws {
        let directory = try TemporaryDirectory("streaming-tokenizer")
        defer { directory.remove() }
        #expect(try TokenizerLoader.loadStreaming(checkpoint: directory.url) is ByteTokenizer)
        var trainer = try BPETrainer(vocabularySize: 270, minimumPairCount: 1)
        trainer.add(String(repeating: "stream me in blocks ", count: 20))
        try trainer.train().save(to: directory.file("tokenizer.json"))
        let loaded = try TokenizerLoader.loadStreaming(checkpoint: directory.url)
        #expect(loaded is BPETokenizer && makeStreamingEncoder(for: loaded) != nil)
        // A broken tokenizer.json is the loader's error, naming the file.
        try Data("{".utf8).write(to: directory.file("tokenizer.json"))
        #expect(throws: TokenizerError.self) {
            try TokenizerLoader.loadStreaming(checkpoint: directory.url)
        }
        #expect(
            "\(TokenizerError.notStreamable(path: "/m"))"
                == "/m: its tokenizer cannot encode streamed text")
    }
}
