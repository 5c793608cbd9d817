import Foundation
import HSACore

extension TokenShardReader {
    /// Every `<split>-NNNNN.bin` in `directory`, opened in file-name order.
    /// - Throws: ``DataLoaderError`` when the directory cannot be listed, holds no shard of the
    ///   split, or its shards disagree on the vocabulary size; ``TokenShardError`` for an
    ///   invalid shard.
    static func openSplit(_ split: DataSplit, in directory: URL) throws -> [TokenShardReader] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw DataLoaderError.io(path: directory.path, reason: fileErrorReason(error))
        }
        let shardNames = names.filter {
            $0.hasPrefix(split.rawValue + "-") && $0.hasSuffix(".bin")
        }.sorted()
        guard !shardNames.isEmpty else {
            throw DataLoaderError.noShards(directory: directory.path, split: split.rawValue)
        }
        var shards: [TokenShardReader] = []
        for name in shardNames {
            let shard = try TokenShardReader(url: directory.appendingPathComponent(name))
            if let first = shards.first, first.vocabularySize != shard.vocabularySize {
                throw DataLoaderError.vocabularyMismatch(
                    file: shard.url.path, expected: first.vocabularySize,
                    actual: shard.vocabularySize)
            }
            shards.append(shard)
        }
        return shards
    }
}

extension [TokenShardReader] {
    /// Throws ``DataLoaderError/vocabularyTooLarge(file:vocabularySize:modelVocabularySize:)``
    /// naming the first shard whose vocabulary (every token is below it, checked on open)
    /// exceeds the model's: its ids would index past the embedding and the output layer.
    func requireVocabulary(atMost modelVocabularySize: Int) throws {
        if let shard = first(where: { $0.vocabularySize > modelVocabularySize }) {
            throw DataLoaderError.vocabularyTooLarge(
                file: shard.url.path, vocabularySize: shard.vocabularySize,
                modelVocabularySize: modelVocabularySize)
        }
    }
}
