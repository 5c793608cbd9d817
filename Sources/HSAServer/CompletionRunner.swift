import HSAInference
import HSAModel

/// Runs one completion on a worker thread: opens its session (over the memory it names, if
/// any), reads the prompt and generates, reporting through `send`. Checks `cancelled` between
/// tokens, so a client that went away or ran out of time stops the work.
enum CompletionRunner {
    static func run(
        _ job: CompletionJob, model: LanguageModel, catalog: ModelCatalog,
        cancelled: () -> Bool, send: (CompletionEvent) -> Void
    ) {
        guard !cancelled() else { return }
        do {
            let session: StreamingSession
            switch job.source {
            case .model: session = try StreamingSession(model: model, maxBlock: 4096)
            case .memory(let memory): session = try memory.session(model: model)
            }
            try session.prefill(tokens: job.promptTokens)
            var sampler = job.sampler
            var matcher = StopMatcher(stops: job.stops)
            let result = try session.continueText(
                maxTokens: job.maxTokens, sampler: &sampler, tokenizer: catalog.tokenizer
            ) { text in
                let released = matcher.feed(text)
                if !released.isEmpty { send(.text(released)) }
                return !matcher.stopped && !cancelled()
            }
            let rest = matcher.finish()
            if !rest.isEmpty { send(.text(rest)) }
            let reason = result.end == .length && !matcher.stopped ? "length" : "stop"
            send(
                .finished(
                    reason: reason, promptTokens: job.promptTokens.count,
                    completionTokens: result.tokens))
        } catch {
            send(.failed(.failed(error)))
        }
    }
}
