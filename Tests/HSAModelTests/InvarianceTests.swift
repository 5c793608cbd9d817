import HSACPU
import HSACore
import HSAModel
import HSATestSupport
import Testing

/// Results must not depend on how the work is split: thread count, batch composition, and a
/// sliding window that covers the whole sequence.
@Suite(.serialized) struct InvarianceTests {
    static func batch(_ count: Int, length: Int, seed: UInt64) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<(count * length)).map { _ in Int32(rng.next() % 259) }
    }

    static var config: ModelConfig {
        var config = ModelConfig.tiny
        config.window = 8
        config.chunkSize = 4
        return config
    }

    @Test func threadCountDoesNotChangeResults() throws {
        let model = LanguageModel(config: Self.config, seed: 3)
        let tokens = Self.batch(2, length: 40, seed: 1)
        let targets = Self.batch(2, length: 40, seed: 2)
        var results: [([Float], [Float])] = []
        for threads in [1, 2] {
            // Only our own thread pool: changing OpenBLAS's thread count while other tests of
            // this process run GEMMs concurrently is a race inside OpenBLAS.
            Threads.set(threads)
            model.zeroGradients()
            let pass = model.forward(tokens: tokens, targets: targets, batch: 2, sequenceLength: 40)
            model.backward(pass)
            results.append((pass.logits.toArray(), model.gradients.storage.toArray()))
        }
        Threads.set(nil)
        let logits = compare(results[1].0, results[0].0, atol: 1e-6, rtol: 1e-5, label: "logits")
        let grads = compare(results[1].1, results[0].1, atol: 1e-7, rtol: 1e-4, label: "gradients")
        #expect(logits.passed, "\(logits)")
        #expect(grads.passed, "\(grads)")
    }

    @Test func batchCompositionDoesNotChangeResults() throws {
        let model = LanguageModel(config: Self.config, seed: 4)
        let length = 37
        let tokens = Self.batch(2, length: length, seed: 5)
        let together = model.forward(tokens: tokens, batch: 2, sequenceLength: length)
        for b in 0..<2 {
            let alone = model.forward(
                tokens: Array(tokens[(b * length)..<((b + 1) * length)]), batch: 1,
                sequenceLength: length)
            let slice = Array(
                together.logits.toArray()[(b * length * 259)..<((b + 1) * length * 259)])
            let report = compare(
                alone.logits.toArray(), slice, atol: 1e-5, rtol: 1e-4, label: "item \(b)")
            #expect(report.passed, "\(report)")
            #expect(
                alone.selections[0]
                    == Array(together.selections[0][(b * length * 2)..<((b + 1) * length * 2)]))
        }
    }

    @Test func windowCoveringTheSequenceEqualsFullAttention() throws {
        var swa = Self.config
        swa.attention = .swa
        swa.window = 64
        var full = swa
        full.attention = .full
        let tokens = Self.batch(1, length: 48, seed: 6)
        let a = LanguageModel(config: swa, seed: 9).forward(
            tokens: tokens, batch: 1, sequenceLength: 48)
        let b = LanguageModel(config: full, seed: 9).forward(
            tokens: tokens, batch: 1, sequenceLength: 48)
        let report = compare(
            a.logits.toArray(), b.logits.toArray(), atol: 0, rtol: 0, label: "logits")
        #expect(report.passed, "\(report)")
    }

    @Test func causality() throws {
        // Changing a later token never changes earlier logits (through SWA, memory or HSA).
        let model = LanguageModel(config: Self.config, seed: 10)
        var tokens = Self.batch(1, length: 40, seed: 7)
        let before = model.forward(tokens: tokens, batch: 1, sequenceLength: 40).logits.toArray()
        tokens[30] = (tokens[30] + 1) % 259
        let after = model.forward(tokens: tokens, batch: 1, sequenceLength: 40).logits.toArray()
        #expect(Array(before[0..<(30 * 259)]) == Array(after[0..<(30 * 259)]))
        #expect(Array(before[(30 * 259)...]) != Array(after[(30 * 259)...]))
    }
}
