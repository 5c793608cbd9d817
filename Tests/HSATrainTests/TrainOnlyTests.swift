import Foundation
import HSA
import HSATestSupport
import Testing

/// `TrainingOptions.trainOnly`: the named parameters learn, every other one stays bit for bit.
@Suite struct TrainOnlyTests {
    static func run(trainOnly: [String]?, in directory: TemporaryDirectory) throws -> (
        before: ParameterStore, after: ParameterStore
    ) {
        var options = TrainingOptions()
        options.steps = 3
        options.batchSize = 2
        options.sequenceLength = 32
        options.evalEvery = 0
        options.checkpointEvery = 0
        options.trainOnly = trainOnly
        let batches = randomBatches(count: 1, batchSize: 2, sequenceLength: 32, seed: 4)
        let model = LanguageModel(config: .tiny, seed: 8)
        let before = ParameterStore(layout: model.layout)
        before.storage.copy(from: model.parameters.storage)
        let trainer = Trainer(
            model: model, options: options, source: CyclingBatches(batches), validation: [],
            runDirectory: directory.url, tokenizer: nil)
        try trainer.run { _ in }
        return (before, model.parameters)
    }

    @Test func onlyTheNamedParametersChange() throws {
        let directory = try TemporaryDirectory("train-only")
        defer { directory.remove() }
        let prefixes = ["encoder.", "upper.0.hsa."]
        let (before, after) = try Self.run(trainOnly: prefixes, in: directory)
        for spec in before.layout.specs {
            let same = before.tensor(spec.name).toArray() == after.tensor(spec.name).toArray()
            let trainable = prefixes.contains { spec.name.hasPrefix($0) }
            // Norm gains and the cls vector are 1-D (no weight decay) but still get gradients.
            #expect(same == !trainable, "\(spec.name)")
        }
    }

    @Test func aPrefixThatNamesNothingIsRejected() throws {
        let directory = try TemporaryDirectory("train-only-bad")
        defer { directory.remove() }
        #expect(throws: TrainingOptionsError.unmatchedPrefix("uper.0.")) {
            _ = try Self.run(trainOnly: ["encoder.", "uper.0."], in: directory)
        }
    }
}
