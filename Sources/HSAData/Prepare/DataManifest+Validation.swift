import Foundation
import HSACore

extension DataManifest {
    /// Manifest formats this version reads: 1 (no checksums) and 2.
    public static let readableVersions = 1...2

    /// Throws ``DataPrepareError/invalidManifest(path:reason:)`` naming `path` and the field
    /// when the manifest cannot describe real shards: an unknown format, special ids outside
    /// the vocabulary, a negative count, a shard name that is not `train-`/`val-NNNNN.bin`
    /// of its split (a path could point outside the directory), a shard listed twice, a
    /// checksum that is not 64 hex digits, or totals that are not the shards' sums.
    func validate(path: String) throws {
        func fail(_ reason: String) -> DataPrepareError {
            .invalidManifest(path: path, reason: reason)
        }
        guard Self.readableVersions.contains(version) else {
            throw fail("format version \(version): this hsa reads \(Self.readableVersions)")
        }
        let vocabulary = tokenizer.vocabSize
        guard (1...Int(UInt32.max)).contains(vocabulary) else {
            throw fail("tokenizer.vocab_size must be in 1...\(UInt32.max), got \(vocabulary)")
        }
        for (field, id) in [("bos", tokenizer.bos), ("eos", tokenizer.eos), ("pad", tokenizer.pad)]
        where !(0..<Int64(vocabulary)).contains(Int64(id)) {
            throw fail("tokenizer.\(field) must be in 0..<\(vocabulary), got \(id)")
        }
        guard validationFraction.isFinite, (0...1).contains(validationFraction) else {
            throw fail("validation_fraction must be in [0, 1], got \(validationFraction)")
        }
        guard shardTokens >= 1 else { throw fail("shard_tokens must be >= 1, got \(shardTokens)") }
        for (index, document) in documents.enumerated()
        where document.tokens < 0 || document.bytes < 0 {
            throw fail("documents[\(index)]: tokens and bytes must be >= 0")
        }
        var seen = Set<String>()
        var totals: [DataSplit: Int] = [:]
        for (index, shard) in shards.enumerated() {
            guard Self.isShardName(shard.file, of: shard.split) else {
                throw fail(
                    "shards[\(index)].file '\(shard.file)' is not a \(shard.split.rawValue)-NNNNN.bin "
                        + "name")
            }
            guard seen.insert(shard.file).inserted else {
                throw fail("shards[\(index)].file '\(shard.file)' is listed twice")
            }
            guard shard.tokens >= 0 else {
                throw fail("shards[\(index)].tokens must be >= 0, got \(shard.tokens)")
            }
            if let sha256 = shard.sha256, !Self.isHexDigest(sha256) {
                throw fail("shards[\(index)].sha256 must be 64 hex digits, got '\(sha256)'")
            }
            let (sum, overflow) = totals[shard.split, default: 0].addingReportingOverflow(
                shard.tokens)
            guard !overflow else { throw fail("shards[\(index)].tokens: the total overflows") }
            totals[shard.split] = sum
        }
        for (field, split, listed) in [
            ("train_tokens", DataSplit.train, trainTokens),
            ("validation_tokens", .val, validationTokens),
        ] where totals[split, default: 0] != listed {
            throw fail(
                "\(field) is \(listed) but the \(split.rawValue) shards hold "
                    + "\(totals[split, default: 0])")
        }
    }

    /// Whether `name` is `<split>-` digits `.bin` (a plain file name, no path).
    static func isShardName(_ name: String, of split: DataSplit) -> Bool {
        let prefix = split.rawValue + "-"
        guard name.hasPrefix(prefix), name.hasSuffix(".bin") else { return false }
        let digits = name.dropFirst(prefix.count).dropLast(4)
        return digits.count >= 5 && digits.allSatisfy { ("0"..."9").contains($0) }
    }

    static func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.allSatisfy(\.isHexDigit)
    }
}
