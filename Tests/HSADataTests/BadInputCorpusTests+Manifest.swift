import Foundation
import HSACore
import HSAData
import HSATestSupport
import Testing

/// Generated bad `manifest.json` files over a valid prepared directory (seeded, so every run
/// tries the same cases): `DataManifest.load` followed by `verifyShards` must refuse each with
/// one error naming the manifest or the shard, never a trap (docs/RELIABILITY.md, "The
/// bad-input corpus").
extension BadInputCorpusTests {
    /// Generated manifest cases (docs/RELIABILITY.md counts them).
    static let manifestCaseCount = 200

    /// One change to the manifest `json` that no loader may accept.
    static func corruptManifest(_ json: [String: Any], _ rng: inout SplitMix64) -> Any {
        var json = json
        var shards = json["shards"] as! [[String: Any]]
        let shard = Int.random(in: 0..<shards.count, using: &rng)
        func pick(_ values: [Any]) -> Any { values.randomElement(using: &rng)! }
        switch Int.random(in: 0..<11, using: &rng) {
        case 0:  // An unknown format or a version of the wrong type.
            json["version"] = pick([0, 3, 99, -1, "2", NSNull()])
        case 1:  // A vocabulary or special id out of range, or of the wrong type.
            var tokenizer = json["tokenizer"] as! [String: Any]
            let field = pick(["vocab_size", "bos", "eos", "pad"]) as! String
            tokenizer[field] =
                field == "vocab_size"
                ? pick([0, -3, 1 << 40, "259"]) : pick([-1, 259, 100_000, true])
            json["tokenizer"] = tokenizer
        case 2:
            json["validation_fraction"] = pick([-0.25, 1.5, "half", [0.5]])
        case 3:
            json["shard_tokens"] = pick([0, -5, 1.5, "many"])
        case 4:  // Totals that are not the shards' sums.
            let field = pick(["train_tokens", "validation_tokens"]) as! String
            let total = json[field] as! Int
            json[field] = total + [1, -1, 1_000, -total - 1].randomElement(using: &rng)!
        case 5:  // A shard name that leaves the directory, has the other split or no digits.
            shards[shard]["file"] = pick([
                "../train-00000.bin", "/etc/passwd", "train-1.bin", "train-00000.txt",
                "sub/train-00000.bin", shards[(shard + 1) % shards.count]["file"]!,
                (shards[shard]["split"] as! String == "train" ? "val" : "train") + "-00000.bin",
            ])
        case 6:  // A token count that is negative or not the file's.
            let tokens = shards[shard]["tokens"] as! Int
            shards[shard]["tokens"] = tokens + [1, -1, 77].randomElement(using: &rng)!
            if Bool.random(using: &rng) { shards[shard]["tokens"] = -1 }
        case 7:  // A checksum that is not a digest, or another file's digest.
            shards[shard]["sha256"] = pick([
                "xyz", String(repeating: "a", count: 63), String(repeating: "g", count: 64),
                String(repeating: "0", count: 64), 42,
            ])
        case 8:
            shards[shard]["split"] = pick(["test", 3, NSNull()])
        case 9:  // A required field missing, at the top, in a shard or in the tokenizer.
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                let field = pick(["tokenizer", "shards", "documents", "version"]) as! String
                json.removeValue(forKey: field)
                return json
            case 1: shards[shard].removeValue(forKey: pick(["file", "split", "tokens"]) as! String)
            default:
                var tokenizer = json["tokenizer"] as! [String: Any]
                tokenizer.removeValue(forKey: pick(["vocab_size", "bos", "eos"]) as! String)
                json["tokenizer"] = tokenizer
            }
        default:  // A document count that is negative.
            var documents = json["documents"] as! [[String: Any]]
            documents[0][pick(["tokens", "bytes"]) as! String] = -Int.random(in: 1...9, using: &rng)
            json["documents"] = documents
        }
        json["shards"] = shards
        return json
    }

    @Test func generatedManifestCorruptionsAreRefusedNamingTheFile() throws {
        let directory = try TemporaryDirectory("manifest-corpus")
        defer { directory.remove() }
        let (out, _) = try ManifestVerificationTests.prepared(directory)
        let manifestURL = out.appendingPathComponent(DataManifest.fileName)
        let valid = try Data(contentsOf: manifestURL)
        let json = try #require(try JSONSerialization.jsonObject(with: valid) as? [String: Any])
        var rng = SplitMix64(seed: 20_261_207)
        for number in 0..<Self.manifestCaseCount {
            let bad: Data
            switch number % 20 {
            case 0: bad = valid.prefix(Int.random(in: 0..<valid.count, using: &rng))  // cut short
            case 1: bad = Data("[1, 2]".utf8)  // another JSON value
            default:
                bad = try JSONSerialization.data(withJSONObject: Self.corruptManifest(json, &rng))
            }
            try bad.write(to: manifestURL)
            do {
                let manifest = try DataManifest.load(from: out)
                try manifest.verifyShards(in: out)
                Issue.record("case \(number) accepted: \(String(decoding: bad, as: UTF8.self))")
            } catch let error as DataPrepareError {
                #expect("\(error)".contains(manifestURL.path), "case \(number): \(error)")
            } catch let error as DataLoaderError {
                #expect("\(error)".contains(out.path + "/"), "case \(number): \(error)")
            }
        }
        try valid.write(to: manifestURL)
        try DataManifest.load(from: out).verifyShards(in: out)  // the base case is valid
    }
}
