import HSAModel

/// A completion request checked against the server: a known model id, fields in range, a
/// prompt within the token limit. Everything a worker needs, and nothing from the client
/// that was not checked.
struct CompletionJob: Sendable {
    /// The id the request named (echoed in the response).
    let model: String
    let source: CompletionSource
    let promptTokens: [Int32]
    let maxTokens: Int
    let sampler: Sampler
    let stops: [String]
    let stream: Bool

    /// OpenAI's default `max_tokens` for completions.
    static let defaultMaxTokens = 16

    /// - Throws: the 400 or 404 `APIError` for the first thing wrong.
    init(_ request: CompletionRequest, catalog: ModelCatalog, limits: ServerLimits)
        throws(APIError)
    {
        guard let source = catalog.source(request.model) else {
            throw .unknownModel(request.model, known: catalog.ids)
        }
        try Self.refuseUnsupported(request)
        let maxTokens = request.maxTokens ?? Self.defaultMaxTokens
        guard (0...limits.maxCompletionTokens).contains(maxTokens) else {
            throw .invalid(
                "'max_tokens' \(maxTokens) must be in 0...\(limits.maxCompletionTokens)",
                param: "max_tokens")
        }
        let temperature = request.temperature ?? 1
        guard (0...2).contains(temperature) else {
            throw .invalid("'temperature' \(temperature) must be in 0...2", param: "temperature")
        }
        let topP = request.topP ?? 1
        guard topP > 0, topP <= 1 else {
            throw .invalid("'top_p' \(topP) must be in (0, 1]", param: "top_p")
        }
        let tokens = source.promptTokens(request.prompt, tokenizer: catalog.tokenizer)
        guard tokens.count <= limits.maxPromptTokens else {
            throw .invalid(
                "The prompt is \(tokens.count) tokens; this server reads at most "
                    + "\(limits.maxPromptTokens)", param: "prompt",
                code: "context_length_exceeded")
        }
        model = request.model
        self.source = source
        promptTokens = tokens
        self.maxTokens = maxTokens
        // Without a seed each request draws its own, as OpenAI's sampling is not repeatable
        // unless asked.
        let seed = request.seed.map { UInt64(bitPattern: Int64($0)) } ?? .random(in: .min ... .max)
        sampler = Sampler(temperature: temperature, topP: topP, seed: seed)
        stops = request.stop ?? []
        stream = request.stream ?? false
    }

    /// Refuses OpenAI fields this server cannot honour instead of ignoring them.
    private static func refuseUnsupported(_ request: CompletionRequest) throws(APIError) {
        let unsupported: [(String, Bool)] = [
            ("n", (request.n ?? 1) != 1), ("best_of", (request.bestOf ?? 1) != 1),
            ("echo", request.echo ?? false), ("logprobs", request.logprobs != nil),
            ("suffix", request.suffix != nil),
            ("presence_penalty", (request.presencePenalty ?? 0) != 0),
            ("frequency_penalty", (request.frequencyPenalty ?? 0) != 0),
        ]
        if let (name, _) = unsupported.first(where: \.1) {
            throw .invalid("'\(name)' is not supported by this server", param: name)
        }
    }
}
