import Foundation
import HSACore
import HSATestSupport
import Testing

@testable import HSAData

@Suite struct DataMixerTests {
    let bos = ByteTokenizer().bos

    /// A text dataset from `hsa data prepare`: three documents of 100, 5 and 30 bytes.
    func textSource(_ directory: TemporaryDirectory) throws -> URL {
        let texts = directory.file("texts")
        try FileManager.default.createDirectory(at: texts, withIntermediateDirectories: true)
        for (name, length) in [("a", 100), ("b", 5), ("c", 30)] {
            let text = String(repeating: name, count: length)
            try Data(text.utf8).write(to: texts.appendingPathComponent("\(name).txt"))
        }
        let out = directory.file("text-tokens")
        _ = try DataPreparer(
            tokenizer: ByteTokenizer(), options: .init(validationFraction: 0)
        ).prepare(inputs: [texts], outputDirectory: out)
        return out
    }

    /// A masked dataset like `hsa data synth`'s: 6 samples of 12 tokens, mask on the last 3.
    func taskSource(_ directory: TemporaryDirectory) throws -> URL {
        let out = directory.file("tasks")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let writer = try TokenShardWriter(
            url: out.appendingPathComponent("train-00000.bin"), vocabularySize: 259,
            hasLossMask: true)
        for sample in 0..<6 {
            let tokens = [bos] + (0..<11).map { Int32(48 + (sample + $0) % 10) }
            try writer.append(tokens, lossMask: [UInt8](repeating: 0, count: 9) + [1, 1, 1])
        }
        try writer.finish()
        let tokenizer = ByteTokenizer()
        let manifest = DataManifest(
            tokenizer: .init(
                file: "tokenizer.json", vocabSize: tokenizer.vocabularySize, bos: tokenizer.bos,
                eos: tokenizer.eos, pad: tokenizer.pad),
            validationFraction: 0, shardTokens: 1000, trainTokens: 72, validationTokens: 0,
            documents: [], emptyFiles: [],
            shards: [.init(file: "train-00000.bin", split: .train, tokens: 72)])
        try JSONEncoder().encode(manifest).write(
            to: out.appendingPathComponent(DataManifest.fileName))
        return out
    }

    /// The output as segments (split at BOS) of (tokens, mask).
    func readSegments(_ directory: URL) throws -> [(tokens: [Int32], mask: [UInt8])] {
        let source = try SegmentedSource(directory: directory)
        return source.segments(maxLength: Int.max, bos: bos).segments.map {
            (Array(source.tokens[$0.range]), Array(source.mask[$0.range]))
        }
    }

    @Test func segmentsStartWithBOSAndKeepMasksAndProportions() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = try textSource(directory)
        let tasks = try taskSource(directory)
        let out = directory.file("mix")
        let summary = try DataMixer.mix(
            sources: [.init(directory: text, weight: 1), .init(directory: tasks, weight: 1)],
            segmentLength: 16, totalTokens: 300, seed: 7, to: out, shardTokens: 64)
        let segments = try readSegments(out)
        #expect(summary.tokens == segments.reduce(0) { $0 + $1.tokens.count })
        #expect(summary.tokens >= 300 && summary.tokens < 300 + 16)
        #expect(summary.shards.count > 1)
        for segment in segments {
            #expect(segment.tokens.first == bos && segment.tokens.count <= 16)
            #expect(segment.mask.first == 0)
            if segment.tokens.count == 12, segment.tokens[1] < 58 {  // a task sample (digits)
                #expect(segment.mask == [UInt8](repeating: 0, count: 9) + [1, 1, 1])
            } else {  // text: loss on everything after BOS
                #expect(segment.mask.dropFirst().allSatisfy { $0 == 1 })
            }
        }
        // Deficit order keeps the token shares within one segment of 1:1.
        let shares = summary.sources.map(\.writtenTokens)
        #expect(abs(shares[0] - shares[1]) <= 16)
        // 300 tokens need ~150 task tokens from a 72-token source: it was repeated.
        #expect(summary.sources[1].passes >= 2)
        let manifest = try DataManifest.load(from: out)
        #expect(manifest.trainTokens == summary.tokens)
    }

    @Test func longDocumentsAreCutIntoBOSPrefixedPiecesThatRejoin() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = try SegmentedSource(directory: try textSource(directory))
        let segments = source.segments(maxLength: 16, bos: bos).segments
        var rejoined: [Int32] = []
        for segment in segments {
            let (tokens, _) = source.materialize(segment, bos: bos)
            #expect(tokens.first == bos && tokens.count <= 16)
            rejoined += segment.prependsBOS ? Array(tokens.dropFirst()) : tokens
        }
        #expect(rejoined == source.tokens)
        // 100-byte document: BOS + 100 bytes + EOS = 102 tokens -> 16 + 6 * 15 + ... pieces.
        #expect(segments.filter { !$0.prependsBOS }.count == 3)
    }

    @Test func taskSamplesLongerThanASegmentAreLeftOutNotCut() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let taskDirectory = try taskSource(directory)
        let tasks = try SegmentedSource(directory: taskDirectory)
        #expect(tasks.segments(maxLength: 12, bos: bos).segments.count == 6)
        #expect(tasks.segments(maxLength: 12, bos: bos).skipped == 0)
        // A cut sample would train its answer without the evidence before the cut.
        #expect(tasks.segments(maxLength: 11, bos: bos).segments.isEmpty)
        #expect(tasks.segments(maxLength: 11, bos: bos).skipped == 6)
        let text = try textSource(directory)
        let mixed = try DataMixer.mix(
            sources: [
                .init(directory: text, weight: 1), .init(directory: taskDirectory, weight: 1),
            ],
            segmentLength: 12, totalTokens: 100, seed: 1, to: directory.file("fits"))
        #expect(mixed.sources.map(\.tooLongSamples) == [0, 0])
        #expect(throws: DataPrepareError.self) {
            try DataMixer.mix(
                sources: [
                    .init(directory: text, weight: 1), .init(directory: taskDirectory, weight: 1),
                ],
                segmentLength: 11, totalTokens: 100, seed: 1, to: directory.file("too-long"))
        }
    }

    @Test func sameSeedSameOutputOtherSeedOtherOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = try textSource(directory)
        let tasks = try taskSource(directory)
        func run(_ seed: UInt64, _ name: String) throws -> [[Int32]] {
            let out = directory.file(name)
            try DataMixer.mix(
                sources: [.init(directory: text, weight: 2), .init(directory: tasks, weight: 1)],
                segmentLength: 16, seed: seed, to: out)
            return try readSegments(out).map(\.tokens)
        }
        let first = try run(1, "one")
        #expect(try run(1, "again") == first)
        #expect(try run(2, "other") != first)
    }

    @Test func parsesWeightsAndRejectsBadOnes() throws {
        let plain = try DataMixer.Source(argument: "data/x")
        #expect(plain.weight == 1 && plain.directory.path.hasSuffix("data/x"))
        let weighted = try DataMixer.Source(argument: "data/x:0.25")
        #expect(weighted.weight == 0.25 && weighted.directory.path.hasSuffix("data/x"))
        #expect(throws: DataPrepareError.self) { try DataMixer.Source(argument: "data/x:-1") }
        #expect(throws: DataPrepareError.self) {
            try DataMixer.mix(sources: [], segmentLength: 16, to: URL(fileURLWithPath: "/tmp"))
        }
    }

    @Test func copyDrillRepeatsEarlierPassagesAtTheEndAndKeepsTheLength() throws {
        let drill = CopyDrill(fraction: 1, passages: 2, passageLength: 8, sourceFraction: 0.5)
        let tokens = [bos] + (0..<99).map { Int32($0 % 200) }  // 100 tokens, all distinct
        var generator = SplitMix64(seed: 3)
        let result = try #require(drill.apply(to: tokens, separator: 10, generator: &generator))
        #expect(result.tokens.count == 100 && result.mask.count == 100)
        #expect(result.mask.first == 0 && result.mask.dropFirst().allSatisfy { $0 == 1 })
        let textLength = 100 - 2 * 9
        #expect(Array(result.tokens[0..<textLength]) == Array(tokens[0..<textLength]))
        for repeatIndex in 0..<2 {
            let at = textLength + repeatIndex * 9
            #expect(result.tokens[at] == 10)
            let passage = Array(result.tokens[(at + 1)..<(at + 9)])
            // The passage is a run of the original from the first half of the text.
            let start = try #require(tokens.firstIndex(of: passage[0]))
            #expect(start >= 1 && start + 8 <= textLength / 2 + 1)
            #expect(Array(tokens[start..<(start + 8)]) == passage)
        }
        #expect(drill.apply(to: Array(tokens[0..<20]), separator: 10, generator: &generator) == nil)
    }

    @Test func oneLongPassageFromTheWholeTextIsASelfCopy() throws {
        // `--drill-source-fraction 1` with one passage of nearly half the segment.
        let drill = CopyDrill(fraction: 1, passages: 1, passageLength: 45, sourceFraction: 1)
        let tokens = [bos] + (0..<99).map { Int32($0 % 200) }
        var generator = SplitMix64(seed: 7)
        let result = try #require(drill.apply(to: tokens, separator: 10, generator: &generator))
        #expect(result.tokens[54] == 10)
        let copy = Array(result.tokens[55...])
        let start = try #require(tokens.firstIndex(of: copy[0]))
        #expect((1..<9).contains(start) && Array(tokens[start..<(start + 45)]) == copy)
    }

    @Test func nearRepeatsFollowTheTextJustReadAndKeepTheLength() throws {
        let drill = CopyDrill(
            fraction: 1, passages: 1, passageLength: 8, sourceFraction: 0.5, nearPassages: 3,
            nearPassageLength: 5)
        let tokens = [bos] + (0..<199).map { Int32($0 % 200) }  // 200 tokens, all distinct
        var generator = SplitMix64(seed: 5)
        let result = try #require(drill.apply(to: tokens, separator: 255, generator: &generator))
        #expect(result.tokens.count == 200 && result.mask.count == 200)
        // Every separator but the far repeat's is followed by 5 tokens of the original that
        // end at most 4 tokens before it; the gaps vary (no fixed copy offset).
        let separators = result.tokens.indices.filter { result.tokens[$0] == 255 }
        #expect(separators.count == 4)
        var gaps: Set<Int> = []
        for at in separators.dropLast() {
            let repeated = Array(result.tokens[(at + 1)..<(at + 6)])
            let start = try #require(tokens.firstIndex(of: repeated[0]))
            #expect(Array(tokens[start..<(start + 5)]) == repeated)
            let cut = try #require(tokens.firstIndex(of: result.tokens[at - 1])) + 1
            #expect((0..<5).contains(cut - (start + 5)))
            gaps.insert(cut - (start + 5))
        }
        #expect(gaps.count > 1)
        // Outside the repeats the text is the original, in order.
        var text: [Int32] = []
        var index = 0
        while index < separators.last! {
            if separators.contains(index) {
                index += 6
            } else {
                text.append(result.tokens[index]); index += 1
            }
        }
        #expect(text == Array(tokens[0..<text.count]))
        #expect(
            CopyDrill(fraction: 1, passages: 1, passageLength: 8, nearPassages: 2)
                .apply(to: Array(tokens[0..<40]), separator: 255, generator: &generator) == nil)
    }

    @Test func mixerDrillsOnlyPlainText() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let summary = try DataMixer.mix(
            sources: [
                .init(directory: try textSource(directory), weight: 1),
                .init(directory: try taskSource(directory), weight: 1),
            ],
            segmentLength: 40, totalTokens: 400, seed: 1,
            copyDrill: CopyDrill(fraction: 1, passages: 1, passageLength: 4, sourceFraction: 0.5),
            to: directory.file("mix"))
        #expect(summary.sources[0].drills > 0)
        #expect(summary.sources[1].drills == 0)
    }
}
