import Foundation

extension HuggingFaceTokenizerFile {
    /// The file describing `tokenizer`: byte tokens and merged tokens as byte-level strings in
    /// `vocab`, the merges by rank, the specials in `added_tokens`.
    init(_ tokenizer: BPETokenizer) {
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokenizer.vocabularySize)
        var strings: [String] = []
        strings.reserveCapacity(tokenizer.vocabularySize)
        for (id, bytes) in tokenizer.tokenBytes.enumerated() {
            let string = ByteLevelAlphabet.string(of: bytes)
            strings.append(string)
            if tokenizer.addedTokens[Int32(id)] == nil { vocab[string] = id }
        }
        addedTokens = tokenizer.addedTokens.sorted { $0.key < $1.key }.map {
            AddedToken(id: Int($0.key), content: $0.value)
        }
        preTokenizer = .byteLevel
        decoder = .byteLevel
        model = Model(
            vocab: vocab,
            merges: tokenizer.merges.map {
                MergeEntry(left: strings[Int($0.left)], right: strings[Int($0.right)])
            })
    }

    /// Writes the file as pretty-printed JSON with sorted keys.
    func write(to url: URL) throws {
        try writeTokenizerJSON(self, to: url)
    }

    /// The tokenizer this file describes.
    /// - Throws: ``TokenizerError/invalidBPE(file:reason:)`` when it uses a part this build
    ///   does not implement (a normalizer, another pre-tokenizer, dropout, ...) or is
    ///   inconsistent (ids not dense, a byte missing, a merge of unknown tokens, no specials).
    func makeTokenizer(path: String) throws -> BPETokenizer {
        func invalid(_ reason: String) -> TokenizerError {
            .invalidBPE(file: path, reason: reason)
        }
        try checkSupported(invalid)
        let size = model.vocab.count + addedTokens.count
        var tokenBytes = [[UInt8]?](repeating: nil, count: size)
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(model.vocab.count)
        for (string, id) in model.vocab {
            guard (0..<size).contains(id), tokenBytes[id] == nil else {
                throw invalid("vocab id \(id) of \"\(string)\" is repeated or not in 0..<\(size)")
            }
            guard let bytes = ByteLevelAlphabet.bytes(of: string), !bytes.isEmpty else {
                throw invalid("vocab token \"\(string)\" is not a byte-level string")
            }
            tokenBytes[id] = bytes
            ids[string] = Int32(id)
        }
        var added: [Int32: String] = [:]
        for token in addedTokens {
            guard (0..<size).contains(token.id), tokenBytes[token.id] == nil else {
                throw invalid("added token id \(token.id) is repeated or not in 0..<\(size)")
            }
            tokenBytes[token.id] = Array(token.content.utf8)
            added[Int32(token.id)] = token.content
        }
        var byteIds: [Int32] = []
        for byte in 0..<256 {
            guard let id = ids[String(ByteLevelAlphabet.characters[byte])] else {
                throw invalid("vocab has no token for byte \(byte)")
            }
            byteIds.append(id)
        }
        var merges: [BPETokenizer.Merge] = []
        merges.reserveCapacity(model.merges.count)
        for (rank, entry) in model.merges.enumerated() {
            guard let left = ids[entry.left], let right = ids[entry.right],
                let result = ids[entry.left + entry.right]
            else {
                throw invalid(
                    "merge \(rank) (\"\(entry.left) \(entry.right)\") names a token not in vocab")
            }
            merges.append(.init(left: left, right: right, result: result))
        }
        let specials = [BPETokenizer.bosContent, BPETokenizer.eosContent, BPETokenizer.padContent]
        let specialIds = try specials.map { content in
            guard let id = added.first(where: { $0.value == content })?.key else {
                throw invalid(
                    "added_tokens has no \(content) (hsa needs <|bos|>, <|eos|>, <|pad|>)")
            }
            return id
        }
        return BPETokenizer(
            tokenBytes: tokenBytes.map { $0 ?? [] }, byteIds: byteIds, merges: merges,
            addedTokens: added, bos: specialIds[0], eos: specialIds[1], pad: specialIds[2])
    }

    /// Rejects the parts of the format this build would encode differently from `tokenizers`.
    private func checkSupported(_ invalid: (String) -> TokenizerError) throws {
        guard model.type == "BPE" else {
            throw invalid("model type is \"\(model.type)\"; this build reads \"BPE\" only")
        }
        if let normalizer {
            throw invalid("normalizer \"\(normalizer.type)\" is not supported (expected null)")
        }
        guard let preTokenizer, preTokenizer.type == "ByteLevel",
            preTokenizer.useRegex ?? true, !(preTokenizer.addPrefixSpace ?? true)
        else {
            throw invalid(
                "pre_tokenizer must be ByteLevel with use_regex true and add_prefix_space false")
        }
        if let decoder, decoder.type != "ByteLevel" {
            throw invalid("decoder \"\(decoder.type)\" is not supported (expected ByteLevel)")
        }
        if model.dropout != nil || model.ignoreMerges == true
            || model.continuingSubwordPrefix != nil || model.endOfWordSuffix != nil
        {
            throw invalid(
                "BPE dropout, ignore_merges, continuing_subword_prefix and end_of_word_suffix "
                    + "are not supported")
        }
    }
}
