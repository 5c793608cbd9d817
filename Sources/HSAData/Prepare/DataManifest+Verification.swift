import Foundation
import HSACore

extension DataManifest {
    /// Checks the shards in `directory` against this manifest before training reads them:
    /// every listed shard exists with the listed token count and a vocabulary no larger than
    /// the manifest's tokenizer, and no `train-`/`val-` shard is left unlisted (the loader
    /// reads every shard file it finds, so an unlisted one would be trained on unseen).
    /// Reads only the 64-byte headers (the token scan is `TokenShardReader`'s).
    /// - Throws: ``DataLoaderError/manifestMismatch(file:reason:)`` naming the shard.
    public func verifyShards(in directory: URL) throws {
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
    }

    /// Whether the manifest lists shards of `split` (no validation shards: validation is off).
    public func hasShards(of split: DataSplit) -> Bool {
        shards.contains { $0.split == split }
    }
}
