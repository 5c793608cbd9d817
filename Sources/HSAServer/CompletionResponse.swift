import Foundation

/// The JSON bodies of OpenAI's completions API: the whole response, and the chunks of a
/// streamed one (`object` "text_completion" in both, `usage` only in the whole one).
struct CompletionResponse: Encodable {
    /// One choice (this server always answers with exactly one).
    struct Choice: Encodable {
        let text: String
        let index = 0
        /// nil (encoded as null) in every streamed chunk but the last.
        let finishReason: String?

        enum CodingKeys: String, CodingKey {
            case text, index, logprobs
            case finishReason = "finish_reason"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(text, forKey: .text)
            try container.encode(index, forKey: .index)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    /// Token counts of a completion.
    struct Usage: Encodable {
        let promptTokens: Int
        let completionTokens: Int
        var totalTokens: Int { promptTokens + completionTokens }

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case totalTokens = "total_tokens"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(promptTokens, forKey: .promptTokens)
            try container.encode(completionTokens, forKey: .completionTokens)
            try container.encode(totalTokens, forKey: .totalTokens)
        }
    }

    let id: String
    let object = "text_completion"
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(object, forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        try container.encode(choices, forKey: .choices)
        try container.encodeIfPresent(usage, forKey: .usage)
    }

    /// A fresh response id (`cmpl-` and 24 hex digits).
    static func newID() -> String {
        "cmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased()
    }

    /// The compact JSON of the response.
    var json: Data { (try? sortedEncoder.encode(self)) ?? Data() }
}

/// `GET /v1/models`: OpenAI's list of model objects.
struct ModelList: Encodable {
    /// One model id.
    struct Entry: Encodable {
        let id: String
        let object = "model"
        let created: Int
        let ownedBy = "hsa"

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }

    let object = "list"
    let data: [Entry]

    enum CodingKeys: String, CodingKey { case object, data }

    init(ids: [String], created: Int) {
        data = ids.map { Entry(id: $0, created: created) }
    }

    var json: Data { (try? sortedEncoder.encode(self)) ?? Data() }
}

/// Sorted keys: the same response reads the same every time.
private let sortedEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()
