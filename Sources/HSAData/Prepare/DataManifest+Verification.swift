import Foundation
import HSACore

extension DataManifest {
    /// Checks the shards in `directory` against this manifest before training reads them:
    /// every listed shard exists with the listed token count, a vocabulary no larger than the
    /// manifest's tokenizer and the listed SHA-256, and no `train-`/`val-` shard is left
    /// unlisted (the loader reads every shard file it finds, so an unlisted one would be
    /// trained on unseen). Reads every shard once for its checksum, the shards side by side
    /// (hashing is bound by one core per file; the token scan is `TokenShardReader`'s).
    /// - Returns: a one-line warning when the manifest predates checksums (format 1): its
    ///   shards are then checked by header only.
    /// - Throws: ``DataLoaderError/manifestMismatch(file:reason:)`` naming the shard.
    @discardableResult
    public func verifyShards(in directory: URL) throws -> String? {
        let listed = Set(shards.map(\.file))
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw DataLoaderError.io(path: directory.path, reason: fileErrorReason(error))
        }
        let isShardFile = { (name: String) in
            name.hasSuffix(".bin")
                && DataSplit.allCases.contains { name.hasPrefix($0.rawValue + "-") }
        }
        if let unlisted = names.filter(isShardFile).sorted().first(where: { !listed.contains($0) })
        {
            throw DataLoaderError.manifestMismatch(
                file: directory.appendingPathComponent(unlisted).path,
                reason: "shard is not listed in \(Self.fileName)")
        }
        for shard in shards {
            let url = directory.appendingPathComponent(shard.file)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw DataLoaderError.manifestMismatch(
                    file: url.path, reason: "listed in \(Self.fileName) but missing")
            }
            let reader = try TokenShardReader(url: url, validateTokens: false)
            guard reader.tokenCount == shard.tokens else {
                throw DataLoaderError.manifestMismatch(
                    file: url.path,
                    reason: "has \(reader.tokenCount) tokens, \(Self.fileName) lists "
                        + "\(shard.tokens)")
            }
            guard reader.vocabularySize <= tokenizer.vocabSize else {
                throw DataLoaderError.manifestMismatch(
                    file: url.path,
                    reason: "vocabulary size \(reader.vocabularySize) exceeds the tokenizer's "
                        + "\(tokenizer.vocabSize) in \(Self.fileName)")
            }
        }
        try verifyChecksums(in: directory)
        guard shards.contains(where: { $0.sha256 == nil }) else { return nil }
        return "warning: \(directory.appendingPathComponent(Self.fileName).path) lists no "
            + "checksums (written before format 2): shards checked by size and header only; "
            + "prepare the data again to add them"
    }

    /// Compares every shard's SHA-256 with the listed one (where one is listed), hashing the
    /// shards concurrently; throws the first shard's error in manifest order.
    private func verifyChecksums(in directory: URL) throws {
        var errors = [Error?](repeating: nil, count: shards.count)
        errors.withUnsafeMutableBufferPointer { slots in
            parallelFor(shards.count) { index in
                let url = directory.appendingPathComponent(shards[index].file)
                do { try verifyChecksum(of: shards[index], at: url) } catch { slots[index] = error }
            }
        }
        if let first = errors.lazy.compactMap({ $0 }).first { throw first }
    }

    /// Compares a shard's SHA-256 with the listed one, when one is listed.
    private func verifyChecksum(of shard: Shard, at url: URL) throws {
        guard let listed = shard.sha256 else { return }
        let actual: String
        do { actual = try SHA256.fileHex(at: url) } catch {
            throw DataLoaderError.io(path: url.path, reason: fileErrorReason(error))
        }
        guard actual == listed.lowercased() else {
            throw DataLoaderError.manifestMismatch(
                file: url.path,
                reason: "SHA-256 \(actual) differs from \(listed) in \(Self.fileName) (the file "
                    + "changed after it was written)")
        }
    }

    /// Whether the manifest lists shards of `split` (no validation shards: validation is off).
    public func hasShards(of split: DataSplit) -> Bool {
        shards.contains { $0.split == split }
    }
}
