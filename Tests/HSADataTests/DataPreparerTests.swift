import Foundation
import HSAData
import HSATestSupport
import Testing

@Suite struct DataPreparerTests {
    /// A corpus of 24 small documents in nested folders, plus files that must be skipped.
    func makeCorpus(_ directory: TemporaryDirectory) throws -> URL {
        for index in 0..<24 {
            let folder = index % 3 == 0 ? "a" : "b/c"
            let ext = ["txt", "md", "rst"][index % 3]
            try directory.write(
                "corpus/\(folder)/doc\(index).\(ext)",
                String(repeating: "document \(index) é. ", count: 1 + index % 5))
        }
        try directory.write("corpus/skipped.bin", "not text")
        try directory.write("corpus/empty.txt", "")
        try directory.write("corpus/.hidden.txt", "hidden")
        return directory.file("corpus")
    }

    /// Every token of the split's shards, in file order.
    func splitTokens(_ manifest: DataManifest, _ split: DataSplit, in directory: URL) throws
        -> [Int32]
    {
        try manifest.shards.filter { $0.split == split }.flatMap {
            try TokenShardReader(url: directory.appendingPathComponent($0.file)).allTokens()
        }
    }

    @Test func writesShardsManifestAndDeterministicSplit() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = try makeCorpus(directory)
        let options = DataPreparer.Options(validationFraction: 0.2, shardTokens: 300)
        let preparer = DataPreparer(tokenizer: ByteTokenizer(), options: options)
        let first = try preparer.prepare(inputs: [corpus], outputDirectory: directory.file("out1"))
        let second = try preparer.prepare(inputs: [corpus], outputDirectory: directory.file("out2"))

        #expect(first.documents.count == 24)
        #expect(first.emptyFiles.count == 1)
        #expect(first.documents.map(\.split) == second.documents.map(\.split))
        #expect(
            first.documents.map(\.split)
                == DataPreparer.assignSplits(
                    relativePaths: first.documents.map(\.path), fraction: 0.2))
        let validation = first.documents.filter { $0.split == .val }
        #expect(!validation.isEmpty && validation.count < 24)

        // Shards hold BOS + bytes + EOS of each document of the split, in manifest order.
        let out = directory.file("out1")
        var expectedTrain: [Int32] = []
        for document in first.documents where document.split == .train {
            let text = try Data(contentsOf: corpus.appendingPathComponent(document.path))
            expectedTrain += [256] + ByteTokenizer().encode(bytes: text) + [257]
            #expect(document.tokens == text.count + 2)
        }
        #expect(try splitTokens(first, .train, in: out) == expectedTrain)
        #expect(first.trainTokens == expectedTrain.count)
        let shardSizes = first.shards.filter { $0.split == .train }.map(\.tokens)
        #expect(shardSizes.count >= 2 && shardSizes.dropLast().allSatisfy { $0 == 300 })
        #expect(first.shards.contains { $0.file == "val-00000.bin" })

        let manifest = try DataManifest.load(from: out)
        #expect(manifest == first)
        #expect(
            try TokenizerLoader.load(from: out.appendingPathComponent("tokenizer.json"))
                .vocabularySize == 259)
    }

    @Test func atLeastOneValidationDocumentFromTwo() {
        let splits = DataPreparer.assignSplits(relativePaths: ["x.txt", "y.txt"], fraction: 0.01)
        #expect(splits.filter { $0 == .val }.count == 1)
        #expect(splits.filter { $0 == .train }.count == 1)
        let single = DataPreparer.assignSplits(relativePaths: ["x.txt"], fraction: 0.01)
        #expect(single == [.train] || single == [.val])
        #expect(
            DataPreparer.assignSplits(relativePaths: ["x", "y", "z"], fraction: 0)
                == [.train, .train, .train])
    }

    @Test func emptyInputsAreRejectedNamingThePath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let preparer = DataPreparer(tokenizer: ByteTokenizer())
        let out = directory.file("out")

        let emptyFolder = directory.file("nothing")
        try FileManager.default.createDirectory(at: emptyFolder, withIntermediateDirectories: true)
        let none = #expect(throws: DataPrepareError.self) {
            try preparer.prepare(inputs: [emptyFolder], outputDirectory: out)
        }
        #expect(
            none?.description.contains("no input documents found in '\(emptyFolder.path)'")
                == true)

        try directory.write("blank/a.txt", "")
        try directory.write("blank/b.md", "")
        let blank = #expect(throws: DataPrepareError.self) {
            try preparer.prepare(inputs: [directory.file("blank")], outputDirectory: out)
        }
        #expect(blank?.description.contains("all 2 input files") == true)
        #expect(blank?.description.contains(directory.file("blank").path) == true)

        let missing = directory.file("missing")
        let notFound = #expect(throws: DataPrepareError.self) {
            try preparer.prepare(inputs: [missing], outputDirectory: out)
        }
        #expect(notFound?.description.contains(missing.path) == true)
    }

    @Test func allFilesOptionAndFileInputs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let corpus = try makeCorpus(directory)
        let options = DataPreparer.Options(extensions: nil)
        let manifest = try DataPreparer(tokenizer: ByteTokenizer(), options: options)
            .prepare(inputs: [corpus], outputDirectory: directory.file("out"))
        #expect(manifest.documents.contains { $0.path == "skipped.bin" })
        let file = try directory.write("single.log", "one file")
        let single = try DataPreparer(tokenizer: ByteTokenizer())
            .prepare(inputs: [file], outputDirectory: directory.file("out2"))
        #expect(single.documents.map(\.path) == ["single.log"])
        #expect(single.trainTokens == 10)
    }
}
