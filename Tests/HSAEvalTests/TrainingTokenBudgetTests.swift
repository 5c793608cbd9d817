import Foundation
import HSA
import HSATestSupport
import Testing

/// `hsa data synth` and `hsa data tasks` in a subword tokenizer's tokens: every written
/// sample (BOS, prompt, answer, EOS) fills its length in that tokenizer's tokens, decodes back
/// to its text, and the directory carries the tokenizer. The byte tokenizer keeps the exact
/// byte samples.
@Suite struct TrainingTokenBudgetTests {
    static let variedGenerator = VariedTaskGenerator(
        corpus: HaystackCorpus(texts: [
            String(
                repeating: "The ferry left at dawn with three carts of turnips. The river was "
                    + "high after the rain, and the pilot kept close to the eastern bank. ",
                count: 40)
        ]),
        sources: .builtIn)

    /// The samples written into `directory`, split at BOS (no text encodes to BOS).
    static func writtenSamples(in directory: URL, bos: Int32) throws
        -> [(tokens: [Int32], mask: [UInt8])]
    {
        var samples: [(tokens: [Int32], mask: [UInt8])] = []
        for shard in try DataManifest.load(from: directory).shards {
            let reader = try TokenShardReader(url: directory.appendingPathComponent(shard.file))
            let tokens = reader.allTokens()
            let mask = reader.lossMask(in: 0..<reader.tokenCount)
            let starts = tokens.indices.filter { tokens[$0] == bos }
            for (start, end) in zip(starts, starts.dropFirst() + [tokens.count]) {
                samples.append((Array(tokens[start..<end]), Array(mask[start..<end])))
            }
        }
        return samples
    }

    /// Whether `count` tokens fill `length`: at most it, and within 2% of it.
    static func fills(_ count: Int, _ length: Int) -> Bool {
        count <= length && Double(count) >= 0.98 * Double(length)
    }

    /// The written tokens and mask are `sample`'s in `tokenizer`, and decode back to its
    /// prompt text (mask 0) and its answer (mask 1, then EOS).
    static func expectWritten(
        _ written: (tokens: [Int32], mask: [UInt8]), are sample: EvalSample,
        tokenizer: any Tokenizer
    ) {
        let expected = SynthMixture.tokens(sample, tokenizer: tokenizer)
        #expect(written.tokens == expected.tokens && written.mask == expected.mask)
        let answerStart = written.mask.firstIndex(of: 1) ?? written.tokens.count
        #expect(tokenizer.decode(Array(written.tokens[..<answerStart])) == sample.promptText)
        #expect(
            tokenizer.decode(Array(written.tokens[answerStart...]))
                == SynthMixture.answerText(sample))
        #expect(written.tokens.last == tokenizer.eos)
        #expect(written.mask[answerStart...].allSatisfy { $0 == 1 })
    }

    /// `tokenizer.json`, the manifest and every shard header name `tokenizer`.
    static func expectTokenizer(_ tokenizer: BPETokenizer, isIn directory: URL) throws {
        #expect(try TokenizerLoader.load(checkpoint: directory).isSame(as: tokenizer))
        let manifest = try DataManifest.load(from: directory)
        #expect(manifest.tokenizer == .init(tokenizer))
        #expect(try manifest.verifyShards(in: directory) == nil)
        for shard in manifest.shards {
            let reader = try TokenShardReader(url: directory.appendingPathComponent(shard.file))
            #expect(reader.vocabularySize == tokenizer.vocabularySize)
        }
    }

    @Test func synthSamplesFillTheLengthInTheTokenizersTokens() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenizer = try TokenBudgetTests.essayTokenizer()
        let generator = TaskGenerator(sources: .builtIn, space: .training)
        let tasks: [EvalTask] = [.ruler(.niahSingle1), .ruler(.niahMultikey1), .ruler(.vt)]
        let lengths = [512, 1024]
        let manifest = try SynthMixture.write(
            tasks: tasks, lengths: lengths, samples: 2, seed: 3, generator: generator,
            tokenizer: tokenizer, to: directory.url)
        #expect(manifest.samples == 12)
        let written = try Self.writtenSamples(in: directory.url, bos: tokenizer.bos)
        let jobs = lengths.flatMap { length in
            tasks.flatMap { task in (0..<2).map { (task, length, $0) } }
        }
        try #require(written.count == jobs.count)
        for ((task, length, index), sample) in zip(jobs, written) {
            #expect(Self.fills(sample.tokens.count, length), "\(task) \(sample.tokens.count)")
            let expected = try generator.trainingSample(
                task, length: length, index: index, seed: 3, tokenizer: tokenizer)
            Self.expectWritten(sample, are: expected, tokenizer: tokenizer)
            // The lengths count tokens, not bytes: the prompt holds more bytes than the length.
            #expect(expected.promptText.utf8.count > length, "\(task)")
        }
        try Self.expectTokenizer(tokenizer, isIn: directory.url)
    }

    @Test func variedSamplesFillTheLengthInTheTokenizersTokens() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenizer = try TokenBudgetTests.essayTokenizer()
        let kinds = VariedTaskKind.allCases
        let lengths = [768, 1024]
        let manifest = try Self.variedGenerator.write(
            count: 16, kinds: kinds, lengths: lengths, seed: 2, tokenizer: tokenizer,
            to: directory.url)
        #expect(manifest.samples == 16)
        let written = try Self.writtenSamples(in: directory.url, bos: tokenizer.bos)
        try #require(written.count == 16)
        for (index, sample) in written.enumerated() {
            let kind = kinds[index % kinds.count]
            // Lengths are drawn at random; more than 2% apart, each sample fills only one.
            let length = lengths.first { Self.fills(sample.tokens.count, $0) }
            guard let length else {
                Issue.record("\(kind): \(sample.tokens.count) tokens fill no length")
                continue
            }
            let expected = try Self.variedGenerator.sample(
                kind, length: length, index: index, seed: 2, tokenizer: tokenizer)
            Self.expectWritten(sample, are: expected, tokenizer: tokenizer)
        }
        try Self.expectTokenizer(tokenizer, isIn: directory.url)
    }

    @Test func theByteTokenizerKeepsTheExactByteSamples() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let generator = TaskGenerator(sources: .builtIn, space: .training)
        for task in [EvalTask.ruler(.niahSingle1), .ruler(.vt), .babilong(.qa1)] {
            let sample = try generator.trainingSample(
                task, length: 2048, index: 1, seed: 3, tokenizer: ByteTokenizer())
            #expect(sample == (try generator.sample(task, length: 2048, index: 1, seed: 3)))
        }
        let lengths = [1024, 2048]
        let manifest = try Self.variedGenerator.write(
            count: 8, kinds: VariedTaskKind.allCases, lengths: lengths, seed: 2,
            to: directory.url)
        let written = try Self.writtenSamples(in: directory.url, bos: ByteTokenizer().bos)
        #expect(manifest.samples == 8 && written.count == 8)
        // Bytes are tokens: every sample is exactly one of the lengths.
        #expect(written.allSatisfy { lengths.contains($0.tokens.count) })
        #expect(try TokenizerLoader.load(checkpoint: directory.url).isSame(as: ByteTokenizer()))
        #expect(try DataManifest.load(from: directory.url).tokenizer == .init(ByteTokenizer()))
    }
}
