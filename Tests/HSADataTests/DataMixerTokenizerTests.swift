import Foundation
import HSATestSupport
import Testing

@testable import HSAData

/// `hsa data mix` mixes only datasets of one tokenizer, and the mixture carries it.
@Suite struct DataMixerTokenizerTests {
    /// A dataset of `text` prepared with a BPE tokenizer of 262 ids (three merges) learned
    /// from `text`; tokenizers learned from other texts have the same size and special ids.
    func bpeSource(_ directory: TemporaryDirectory, name: String, text: String) throws -> URL {
        var trainer = try BPETrainer(vocabularySize: 262)
        trainer.add(String(repeating: text + " ", count: 10))
        try directory.write("\(name)-texts/a.txt", String(repeating: text + " ", count: 30))
        let out = directory.file(name)
        _ = try DataPreparer(tokenizer: trainer.train(), options: .init(validationFraction: 0))
            .prepare(inputs: [directory.file("\(name)-texts")], outputDirectory: out)
        return out
    }

    func mix(_ sources: [URL], to out: URL) throws {
        try DataMixer.mix(
            sources: sources.map { .init(directory: $0, weight: 1) }, segmentLength: 64, to: out)
    }

    @Test func sourcesWithOtherMergesOfTheSameSizeAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try bpeSource(directory, name: "first", text: "aaaa bbbb aaaa")
        let other = try bpeSource(directory, name: "other", text: "cccc dddd cccc")
        // The manifests cannot tell them apart: same vocabulary size and special ids.
        #expect(
            try DataManifest.load(from: first).tokenizer
                == DataManifest.load(from: other).tokenizer)
        let error = #expect(throws: DataPrepareError.self) {
            try mix([first, other], to: directory.file("mixed"))
        }
        #expect(error?.description.contains("tokenizer.json differs") == true)
        #expect(error?.description.split(separator: "\n").count == 1)
    }

    @Test func sourcesOfOtherVocabularySizesAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("bytes-texts/a.txt", "plain text in bytes")
        let bytes = directory.file("bytes")
        _ = try DataPreparer(tokenizer: ByteTokenizer(), options: .init(validationFraction: 0))
            .prepare(inputs: [directory.file("bytes-texts")], outputDirectory: bytes)
        let bpe = try bpeSource(directory, name: "bpe", text: "aaaa bbbb aaaa")
        let error = #expect(throws: DataPrepareError.self) {
            try mix([bytes, bpe], to: directory.file("mixed"))
        }
        #expect(error?.description.contains("differs from") == true)
    }

    @Test func sourcesOfOneTokenizerMixAndPassItOn() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try bpeSource(directory, name: "first", text: "aaaa bbbb aaaa")
        let again = try bpeSource(directory, name: "again", text: "aaaa bbbb aaaa")
        let out = directory.file("mixed")
        try mix([first, again], to: out)
        let tokenizer = try TokenizerLoader.load(checkpoint: first)
        #expect(try TokenizerLoader.load(checkpoint: out).isSame(as: tokenizer))
        #expect(!tokenizer.isSame(as: ByteTokenizer()))
        #expect(ByteTokenizer().isSame(as: ByteTokenizer()))
    }
}
