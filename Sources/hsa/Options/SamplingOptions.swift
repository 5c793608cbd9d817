import ArgumentParser
import HSA

/// How `generate` and `complete` pick tokens.
struct SamplingOptions: ParsableArguments {
    @Option var maxTokens: Int = 200
    @Option(help: "0 for greedy decoding.")
    var temperature: Double = 0
    @Option(help: "Sample among the k most likely tokens (0: all).")
    var topK: Int = 0
    @Option(help: "Sample from the smallest set with this probability mass.")
    var topP: Double = 1
    @Option var seed: UInt64 = 0

    func validate() throws {
        guard maxTokens >= 0, temperature >= 0, topK >= 0, topP > 0, topP <= 1 else {
            throw ValidationError(
                "need --max-tokens >= 0, --temperature >= 0, --top-k >= 0, 0 < --top-p <= 1")
        }
    }

    /// Throws unless `--top-k` is at most the model's vocabulary (checked once the model is
    /// loaded, before sampling sizes anything by it).
    func check(vocabularySize: Int) throws {
        guard topK <= vocabularySize else {
            throw UserError(
                "--top-k \(topK): must be in 0...\(vocabularySize) (0: all tokens; the model's "
                    + "vocab_size is \(vocabularySize))")
        }
    }

    var sampler: Sampler { Sampler(temperature: temperature, topK: topK, topP: topP, seed: seed) }
}

/// Samples up to `sampling.maxTokens` tokens after what `session` has read, printing each as it
/// comes; stops at the tokenizer's EOS.
func printContinuation(
    of session: StreamingSession, sampling: SamplingOptions, tokenizer: any Tokenizer
) throws {
    var sampler = sampling.sampler
    try session.continueText(
        maxTokens: sampling.maxTokens, sampler: &sampler, tokenizer: tokenizer
    ) { text in
        Terminal.writeOutput(text)
        return true
    }
    Terminal.printLine("")
}
