import ArgumentParser
import HSAServer

/// The flags of `ServerLimits` (defaults from there).
struct LimitOptions: ParsableArguments {
    @Option(help: "Largest request body in bytes (413 above).")
    var maxBodyBytes = ServerLimits().maxBodyBytes
    @Option(help: "Most prompt tokens per request (400 above).")
    var maxPromptTokens = ServerLimits().maxPromptTokens
    @Option(help: "Largest max_tokens a request may ask for (400 above).")
    var maxCompletionTokens = ServerLimits().maxCompletionTokens
    @Option(help: "Completions running at once, each with its own copy of the model.")
    var workers = ServerLimits().workers
    @Option(help: "Completions waiting for a worker (429 beyond).")
    var queueDepth = ServerLimits().queueDepth
    @Option(help: "Connections open at once (503 and close beyond).")
    var maxConnections = ServerLimits().maxConnections
    @Option(help: "Seconds to receive a whole request (408 after; idle connections close).")
    var readTimeout = ServerLimits().readTimeout
    @Option(help: "Seconds a completion may run (504, or the stream cut, after).")
    var requestTimeout = ServerLimits().requestTimeout

    func validate() throws {
        guard maxBodyBytes > 0, maxPromptTokens > 0, maxCompletionTokens >= 0, workers > 0,
            queueDepth >= 0, maxConnections > 0, readTimeout > 0, requestTimeout > 0
        else {
            throw ValidationError(
                "need --max-body-bytes, --max-prompt-tokens, --workers, --max-connections, "
                    + "--read-timeout, --request-timeout > 0 and --max-completion-tokens, "
                    + "--queue-depth >= 0")
        }
    }

    var serverLimits: ServerLimits {
        var limits = ServerLimits()
        limits.maxBodyBytes = maxBodyBytes
        limits.maxPromptTokens = maxPromptTokens
        limits.maxCompletionTokens = maxCompletionTokens
        limits.workers = workers
        limits.queueDepth = queueDepth
        limits.maxConnections = maxConnections
        limits.readTimeout = readTimeout
        limits.requestTimeout = requestTimeout
        return limits
    }
}
