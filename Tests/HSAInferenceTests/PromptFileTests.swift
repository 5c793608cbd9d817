import Foundation
import HSA
import HSATestSupport
import Testing

/// A prompt file streamed in blocks (what `hsa complete` reads): the same session state as
/// prefilling its tokens at once, its token limit enforced, its key/value store chosen by size.
@Suite struct PromptFileTests {
    static let text = String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 9)

    @Test func blocksPrefillWhatTheWholeTextPrefills() throws {
        let directory = try TemporaryDirectory("prompt-file")
        defer { directory.remove() }
        let path = try directory.write("prompt.txt", Self.text).path
        let model = StreamingFixtures.model(StreamingFixtures.config)
        let tokenizer = ByteTokenizer()
        let limit = PromptTokenLimit(
            given: 10_000, config: model.config, precision: .fp32, storage: .ram)
        let streamed = try StreamingSession(model: model)
        var reads: [Int] = []
        try streamed.prefill(
            PromptFile(path: path), tokenizer: tokenizer, blockBytes: 100, limit: limit
        ) { reads.append($0) }
        let whole = try StreamingSession(model: model)
        try whole.prefill(tokens: [tokenizer.bos] + tokenizer.encode(Self.text))
        #expect(streamed.position == Self.text.utf8.count + 1)
        // Other block boundaries round differently: equal up to float error, as in
        // StreamingExactnessTests.
        let report = compare(
            try streamed.logits(), try whole.logits(), atol: 1e-4, rtol: 1e-4, label: "logits")
        #expect(report.passed, "\(report)")
        #expect(reads == [100, 200, 300, 400, Self.text.utf8.count])
    }

    @Test func aPromptPastItsLimitIsRefusedNamingIt() throws {
        let directory = try TemporaryDirectory("prompt-file")
        defer { directory.remove() }
        let path = try directory.write("prompt.txt", Self.text).path
        let model = StreamingFixtures.model(StreamingFixtures.config)
        let limit = PromptTokenLimit(
            given: 50, config: model.config, precision: .fp32, storage: .ram)
        let session = try StreamingSession(model: model)
        #expect(throws: InferenceError.promptTooLong(prompt: path, limit: 50, derived: false)) {
            try session.prefill(
                PromptFile(path: path), tokenizer: ByteTokenizer(), blockBytes: 16, limit: limit)
        }
        // A byte-level file is refused by its size, before any token is prefilled.
        #expect(session.position == 0)
        let derived = PromptTokenLimit(
            given: nil, config: model.config, precision: .fp32, storage: .ram)
        #expect(derived.derived && derived.tokens >= 2)
        #expect(
            "\(InferenceError.promptTooLong(prompt: "stdin", limit: 7, derived: true))".hasPrefix(
                "--max-prompt-tokens (what free RAM/disk holds now): the prompt (stdin)"))
        #expect(throws: InferenceError.promptUnreadable(path: directory.file("none").path)) {
            try session.prefill(
                PromptFile(path: directory.file("none").path), tokenizer: ByteTokenizer(),
                blockBytes: 16, limit: limit)
        }
    }

    @Test func theStoreIsChosenByThePromptsSize() throws {
        let directory = try TemporaryDirectory("prompt-file")
        defer { directory.remove() }
        let prompt = PromptFile(path: try directory.write("prompt.txt", Self.text).path)
        #expect(prompt.byteCount == Self.text.utf8.count)
        #expect(PromptFile(path: "-").byteCount == nil && PromptFile(path: "-").name == "stdin")
        let config = StreamingFixtures.config
        let disk = KVStorage.disk(directory: URL(fileURLWithPath: directory.url.path))
        func storage(_ choice: KVStoreChoice, _ prompt: PromptFile) throws -> KVStorage {
            try choice.storage(
                for: prompt, diskPath: directory.url.path, config: config, precision: .fp32)
        }
        // A small file fits in RAM; stdin's size is unknown, so `auto` keeps it on disk.
        #expect(try storage(.auto, prompt) == .ram)
        #expect(try storage(.auto, PromptFile(path: "-")) == disk)
        #expect(try storage(.disk, prompt) == disk)
        #expect(try storage(.ram, PromptFile(path: "-")) == .ram)
        let missing = directory.file("missing").path
        #expect(throws: InferenceError.kvPathNotDirectory(path: missing)) {
            try KVStoreChoice.ram.storage(
                for: prompt, diskPath: missing, config: config, precision: .fp32)
        }
    }

    @Test func aShortPromptIsReadAtOnceUpToItsLimit() throws {
        let directory = try TemporaryDirectory("prompt-file")
        defer { directory.remove() }
        let path = try directory.write("prompt.txt", Self.text).path
        #expect(try PromptFile(path: path).contents() == Data(Self.text.utf8))
        #expect(
            throws: InferenceError.promptFileTooLong(prompt: path, limit: 100)
        ) { try PromptFile(path: path).contents(limit: 100) }
        #expect(
            "\(InferenceError.promptFileTooLong(prompt: "(stdin)", limit: 7))"
                == "--prompt-file (stdin): longer than 7 bytes; hint: stream long inputs with "
                + "`hsa complete` or `hsa memory build`")
        #expect(throws: InferenceError.self) {
            try PromptFile(path: directory.file("none").path).contents()
        }
    }
}
