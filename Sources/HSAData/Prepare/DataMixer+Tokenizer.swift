import Foundation

extension DataMixer {
    /// The tokenizer all `sources` share: the first one's `tokenizer.json` (the byte tokenizer
    /// when it has none), after checking that every source's manifest entry and tokenizer file
    /// describe the same tokenizer. The file is compared too, since two BPE tokenizers of one
    /// vocabulary size have equal manifest entries but give other ids to the same text.
    /// - Throws: ``DataPrepareError/io(path:reason:)`` naming the first source that differs,
    ///   or ``TokenizerError`` for an unreadable `tokenizer.json`.
    static func sharedTokenizer(of sources: [Source], manifests: [DataManifest]) throws
        -> any Tokenizer
    {
        let first = sources[0].directory.path
        let summary = manifests[0].tokenizer
        for (source, manifest) in zip(sources, manifests) where manifest.tokenizer != summary {
            throw DataPrepareError.io(
                path: source.directory.path,
                reason: "tokenizer \(manifest.tokenizer) differs from \(first)'s \(summary); "
                    + "hint: mix datasets made with the same tokenizer")
        }
        let tokenizers = try sources.map { try TokenizerLoader.load(checkpoint: $0.directory) }
        for (source, tokenizer) in zip(sources, tokenizers)
        where !tokenizer.isSame(as: tokenizers[0]) {
            throw DataPrepareError.io(
                path: source.directory.path,
                reason: "tokenizer.json differs from \(first)'s (same vocabulary size, other "
                    + "tokens or merges); hint: mix datasets made with the same tokenizer")
        }
        return tokenizers[0]
    }
}
