import HSACore
import HSAModel
import HSATestSupport
import Testing

/// State passing across training segments (`forward(..., mamba2States:)`): a sequence run as
/// two segments with the states carried equals the sequence run at once, and the gradients of
/// the second segment, with its carried start held constant, match finite differences.
@Suite struct Mamba2StatePassingTests {
    static let config = ModelConfig.tinyMamba2()

    static func tokens(batch: Int, length: Int, seed: UInt64) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<(batch * length)).map { _ in Int32(rng.next() % 259) }
    }

    /// Rows [from, from + count) of each of the B sequences of `rows` (B, T, width).
    static func slice<Element>(
        _ rows: [Element], batch: Int, length: Int, width: Int = 1, from: Int, count: Int
    ) -> [Element] {
        var out: [Element] = []
        for b in 0..<batch {
            let start = (b * length + from) * width
            out += rows[start..<(start + count * width)]
        }
        return out
    }

    @Test(arguments: [1, 3, 13])
    func twoSegmentsWithCarriedStatesEqualOneSequence(split: Int) throws {
        let model = LanguageModel(config: Self.config, seed: 2)
        sharpenMamba2ForGradientCheck(model)
        let (batch, length, vocab) = (2, 21, Self.config.vocabSize)
        let tokens = Self.tokens(batch: batch, length: length, seed: 5)
        let whole = model.forward(tokens: tokens, batch: batch, sequenceLength: length).logits
            .toArray()
        let states = model.mamba2States(batch: batch)
        var pieces: [[Float]] = []
        for (from, count) in [(0, split), (split, length - split)] {
            let segment = Self.slice(tokens, batch: batch, length: length, from: from, count: count)
            pieces.append(
                model.forward(
                    tokens: segment, batch: batch, sequenceLength: count, mamba2States: states
                ).logits.toArray())
        }
        for (index, (from, count)) in [(0, split), (split, length - split)].enumerated() {
            let expected = Self.slice(
                whole, batch: batch, length: length, width: vocab, from: from, count: count)
            let worst = zip(pieces[index], expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "split \(split), segment \(index): max error \(worst)")
        }
    }

    @Test func gradientsWithACarriedStartMatchFiniteDifferences() throws {
        let model = LanguageModel(config: Self.config, seed: 7)
        sharpenMamba2ForGradientCheck(model)
        let (batch, length) = (2, 11)
        let states = model.mamba2States(batch: batch)
        _ = model.forward(
            tokens: Self.tokens(batch: batch, length: 9, seed: 1), batch: batch,
            sequenceLength: 9, mamba2States: states)
        let tokens = Self.tokens(batch: batch, length: length, seed: 2)
        let targets = Self.tokens(batch: batch, length: length, seed: 3)
        // Each evaluation starts from the same carried state (forward advances what it gets).
        func run() -> LanguageModel.Pass {
            model.forward(
                tokens: tokens, targets: targets, batch: batch, sequenceLength: length,
                mamba2States: states.map { $0.copy() })
        }
        let base = run()
        model.zeroGradients()
        model.backward(base)
        var rng = SplitMix64(seed: 13)
        let failures = directionalGradientFailures(model, rng: &rng) { run().loss }
        #expect(failures.isEmpty, "\(failures.joined(separator: "; "))")
    }
}
