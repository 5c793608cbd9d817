import Foundation
import HSAData
import HSATestSupport
import Testing

/// `--tokenizer PATH`: a tokenizer.json, or a directory with or without one; and the line
/// `hsa tokenizer train` prints.
@Suite struct TokenizerPathTests {
    @Test func aFileADirectoryOrNothing() throws {
        let directory = try TemporaryDirectory("tokenizer-path")
        defer { directory.remove() }
        #expect(try TokenizerLoader.load(fileOrDirectory: directory.url.path) is ByteTokenizer)
        var trainer = try BPETrainer(vocabularySize: 270, minimumPairCount: 1)
        trainer.add(String(repeating: "a path to a tokenizer ", count: 20))
        let file = directory.file("tokenizer.json")
        try trainer.train().save(to: file)
        #expect(try TokenizerLoader.load(fileOrDirectory: file.path) is BPETokenizer)
        #expect(try TokenizerLoader.load(fileOrDirectory: directory.url.path) is BPETokenizer)
        let missing = directory.file("none").path
        do {
            _ = try TokenizerLoader.load(fileOrDirectory: missing)
            Issue.record("a missing path loaded")
        } catch let error as TokenizerError {
            #expect("\(error)" == "--tokenizer \(missing): no such file or directory")
        }
    }

    @Test func theTrainingReportLine() throws {
        var trainer = try BPETrainer(vocabularySize: 262, minimumPairCount: 1)
        trainer.add("abab abab")
        let tokenizer = trainer.train()
        let line = trainer.reportLine(
            files: 1, tokenizer: tokenizer, countSeconds: 0.04, mergeSeconds: 1.25,
            output: URL(fileURLWithPath: "/out/tokenizer.json"))
        #expect(
            line
                == "files=1 bytes=9 pieces=\(trainer.distinctPieceCount) merges=3 vocab=262 "
                + "count_s=0.0 merge_s=1.2 out=/out/tokenizer.json")
    }
}
