import Foundation
import HSAData
import HSATestSupport
import Testing

/// A prepared directory is checked against its manifest before training: every disagreement
/// is one error naming the shard, and shards whose ids exceed the model's vocabulary are
/// refused before a batch reaches the cross-entropy.
@Suite struct ManifestVerificationTests {
    /// A prepared directory (byte tokenizer, train and val shards) and its manifest.
    static func prepared(_ directory: TemporaryDirectory) throws -> (URL, DataManifest) {
        for name in ["a", "b", "c", "d"] {
            try directory.write("in/\(name).txt", String(repeating: "\(name)bc ", count: 60))
        }
        let out = directory.file("out")
        let manifest = try DataPreparer(
            tokenizer: ByteTokenizer(), options: .init(validationFraction: 0.5)
        ).prepare(inputs: [directory.file("in")], outputDirectory: out)
        return (out, manifest)
    }

    /// (Re)writes the shard at `url`: `count` tokens of id `token`, vocabulary `vocabulary`.
    static func rewrite(_ url: URL, count: Int, token: Int32, vocabulary: Int) throws {
        try? FileManager.default.removeItem(at: url)
        let writer = try TokenShardWriter(url: url, vocabularySize: vocabulary)
        try writer.append([Int32](repeating: token, count: count))
        try writer.finish()
    }

    @Test func aPreparedDirectoryPasses() throws {
        let directory = try TemporaryDirectory("manifest")
        defer { directory.remove() }
        let (out, manifest) = try Self.prepared(directory)
        #expect(try manifest.verifyShards(in: out) == nil)
        #expect(manifest.hasShards(of: .train) && manifest.hasShards(of: .val))
        #expect(manifest.version == 2)
        for shard in manifest.shards {
            let url = out.appendingPathComponent(shard.file)
            #expect(shard.sha256 == (try Self.sha256sum(url)), "\(shard.file)")
        }
    }

    /// The checksum is the one coreutils' `sha256sum` prints for the file.
    static func sha256sum(_ url: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init)
            ?? ""
    }

    /// A manifest of format 1 (no checksums) still loads; verification says it checked less.
    @Test func aManifestWithoutChecksumsLoadsWithAWarning() throws {
        let directory = try TemporaryDirectory("manifest")
        defer { directory.remove() }
        let (out, prepared) = try Self.prepared(directory)
        var json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent(DataManifest.fileName)))
                as? [String: Any])
        json["version"] = 1
        json["shards"] = (json["shards"] as? [[String: Any]])?.map { shard in
            shard.filter { $0.key != "sha256" }
        }
        try JSONSerialization.data(withJSONObject: json).write(
            to: out.appendingPathComponent(DataManifest.fileName))
        let manifest = try DataManifest.load(from: out)
        #expect(manifest.shards.count == prepared.shards.count)
        #expect(manifest.shards.allSatisfy { $0.sha256 == nil })
        let warning = try #require(try manifest.verifyShards(in: out))
        #expect(warning.contains("lists no checksums"))
    }

    /// (what is done to the first train shard, text the error must contain)
    @Test(arguments: [
        ("remove", "listed in manifest.json but missing"),
        ("unlisted", "train-00099.bin: shard is not listed in manifest.json"),
        ("shorter", "has 10 tokens, manifest.json lists"),
        ("vocabulary", "vocabulary size 70000 exceeds the tokenizer's 259"),
        ("flipped", "differs from"),
    ])
    func aDisagreementNamesTheShard(change: String, message: String) throws {
        let directory = try TemporaryDirectory("manifest")
        defer { directory.remove() }
        let (out, manifest) = try Self.prepared(directory)
        let shard = try #require(manifest.shards.first { $0.split == .train })
        let url = out.appendingPathComponent(shard.file)
        switch change {
        case "remove": try FileManager.default.removeItem(at: url)
        case "unlisted":
            try FileManager.default.copyItem(
                at: url, to: out.appendingPathComponent("train-00099.bin"))
        case "shorter": try Self.rewrite(url, count: 10, token: 1, vocabulary: 259)
        case "flipped":  // same size and header, one token changed
            var bytes = try Data(contentsOf: url)
            bytes[TokenShardHeader.byteCount] ^= 1
            try bytes.write(to: url)
        default: try Self.rewrite(url, count: shard.tokens, token: 1, vocabulary: 70_000)
        }
        #expect {
            try manifest.verifyShards(in: out)
        } throws: { error in
            "\(error)".contains(out.path + "/train-") && "\(error)".contains(message)
        }
    }

    /// The shard reader checks ids against the shard's own vocabulary; the loader checks that
    /// vocabulary against the model's.
    @Test func idsBeyondTheModelsVocabularyAreRefused() throws {
        let directory = try TemporaryDirectory("manifest")
        defer { directory.remove() }
        let url = directory.file("train-00000.bin")
        try Self.rewrite(url, count: 100, token: 300, vocabulary: 301)
        let loader = try TokenDataLoader(
            directory: directory.url, split: .train, batchSize: 1, sequenceLength: 16)
        try loader.requireVocabulary(atMost: 301)
        #expect {
            try loader.requireVocabulary(atMost: 259)
        } throws: { error in
            "\(error)".hasPrefix(url.path)
                && "\(error)".contains("token ids go up to 300")
                && "\(error)".contains("vocab_size is 259")
        }
    }
}
