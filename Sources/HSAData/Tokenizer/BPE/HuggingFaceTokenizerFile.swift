import Foundation

/// The part of the Hugging Face `tokenizers` JSON format a byte-level ``BPETokenizer`` uses:
/// a `BPE` model (vocab and merges), the `ByteLevel` pre-tokenizer and decoder, no
/// normalizer, and the special tokens as `added_tokens`. Unknown keys are ignored on reading.
struct HuggingFaceTokenizerFile: Codable {
    /// One entry of `added_tokens`.
    struct AddedToken: Codable {
        var id: Int
        var content: String
        var singleWord = false
        var lstrip = false
        var rstrip = false
        var normalized = false
        var special = true

        enum CodingKeys: String, CodingKey {
            case id, content, lstrip, rstrip, normalized, special
            case singleWord = "single_word"
        }
    }

    /// A pre-tokenizer, decoder, normalizer or post-processor: its type and the ByteLevel flags.
    struct Step: Codable {
        var type: String
        var addPrefixSpace: Bool?
        var trimOffsets: Bool?
        var useRegex: Bool?

        enum CodingKeys: String, CodingKey {
            case type
            case addPrefixSpace = "add_prefix_space"
            case trimOffsets = "trim_offsets"
            case useRegex = "use_regex"
        }

        /// The ByteLevel step hsa writes (and the only pre-tokenizer it implements).
        static let byteLevel = Step(
            type: "ByteLevel", addPrefixSpace: false, trimOffsets: true, useRegex: true)
    }

    /// A merge, written `"a b"` (read also as `["a", "b"]`, the newer `tokenizers` form).
    struct MergeEntry: Codable {
        var left: String
        var right: String

        init(left: String, right: String) {
            self.left = left
            self.right = right
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let pair = try? container.decode([String].self) {
                guard pair.count == 2 else {
                    throw DecodingError.dataCorruptedError(
                        in: container, debugDescription: "a merge has \(pair.count) parts, not 2")
                }
                (left, right) = (pair[0], pair[1])
                return
            }
            let text = try container.decode(String.self)
            let parts = text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "merge \"\(text)\" is not \"left right\"")
            }
            (left, right) = (String(parts[0]), String(parts[1]))
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode("\(left) \(right)")
        }
    }

    /// The `model` object.
    struct Model: Codable {
        var type: String
        var vocab: [String: Int]
        var merges: [MergeEntry]
        var dropout: Double?
        var unkToken: String?
        var continuingSubwordPrefix: String?
        var endOfWordSuffix: String?
        var ignoreMerges: Bool?

        enum CodingKeys: String, CodingKey {
            case type, vocab, merges, dropout
            case unkToken = "unk_token"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case endOfWordSuffix = "end_of_word_suffix"
            case ignoreMerges = "ignore_merges"
            case fuseUnk = "fuse_unk"
            case byteFallback = "byte_fallback"
        }

        init(vocab: [String: Int], merges: [MergeEntry]) {
            type = "BPE"
            self.vocab = vocab
            self.merges = merges
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(String.self, forKey: .type)
            vocab = try container.decode([String: Int].self, forKey: .vocab)
            merges = try container.decode([MergeEntry].self, forKey: .merges)
            dropout = try container.decodeIfPresent(Double.self, forKey: .dropout)
            unkToken = try container.decodeIfPresent(String.self, forKey: .unkToken)
            continuingSubwordPrefix = try container.decodeIfPresent(
                String.self, forKey: .continuingSubwordPrefix)
            endOfWordSuffix = try container.decodeIfPresent(String.self, forKey: .endOfWordSuffix)
            ignoreMerges = try container.decodeIfPresent(Bool.self, forKey: .ignoreMerges)
        }

        // Every field written, nulls included, as `tokenizers` itself saves them.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(vocab, forKey: .vocab)
            try container.encode(merges, forKey: .merges)
            try container.encodeNil(forKey: .dropout)
            try container.encodeNil(forKey: .unkToken)
            try container.encodeNil(forKey: .continuingSubwordPrefix)
            try container.encodeNil(forKey: .endOfWordSuffix)
            try container.encode(false, forKey: .fuseUnk)
            try container.encode(false, forKey: .byteFallback)
            try container.encode(false, forKey: .ignoreMerges)
        }
    }

    var version = "1.0"
    var addedTokens: [AddedToken]
    var normalizer: Step?
    var preTokenizer: Step?
    var postProcessor: Step?
    var decoder: Step?
    var model: Model

    enum CodingKeys: String, CodingKey {
        case version, normalizer, decoder, model, truncation, padding
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(String.self, forKey: .version) ?? "1.0"
        addedTokens = try container.decodeIfPresent([AddedToken].self, forKey: .addedTokens) ?? []
        normalizer = try container.decodeIfPresent(Step.self, forKey: .normalizer)
        preTokenizer = try container.decodeIfPresent(Step.self, forKey: .preTokenizer)
        postProcessor = try container.decodeIfPresent(Step.self, forKey: .postProcessor)
        self.decoder = try container.decodeIfPresent(Step.self, forKey: .decoder)
        model = try container.decode(Model.self, forKey: .model)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encodeNil(forKey: .truncation)
        try container.encodeNil(forKey: .padding)
        try container.encode(addedTokens, forKey: .addedTokens)
        try container.encodeNil(forKey: .normalizer)
        try container.encode(preTokenizer, forKey: .preTokenizer)
        try container.encodeNil(forKey: .postProcessor)
        try container.encode(decoder, forKey: .decoder)
        try container.encode(model, forKey: .model)
    }
}
