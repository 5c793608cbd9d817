import Foundation
import HSA
import Testing

/// `--resume` compares the checkpoint's run definition with the new invocation's: a change
/// of what defines the run is refused, naming every changed field, unless allowed; what may
/// change (total steps, cadences, ...) resumes as before.
@Suite struct ResumeCheckTests {
    static let stored = RunDefinition(options: ResumeTests.options(), model: .tiny)

    @Test func everyRunDefiningChangeIsListed() {
        var new = Self.stored
        new.options.batchSize = 4
        new.options.sequenceLength = 64
        new.options.seed = 7
        new.options.documentAligned = true
        new.model.dModel = 64
        let changes = new.changes(from: Self.stored).map(\.description)
        #expect(
            changes == [
                "batch_size: 2 → 4", "seq_len: 32 → 64", "seed: 1234 → 7",
                "document_aligned: false → true", "config.d_model: 32 → 64",
            ])
    }

    @Test func changeableOptionsAreNoChange() {
        var new = Self.stored
        new.options.steps = 600
        new.options.minLearningRate = 0
        new.options.evalEvery = 7
        new.options.checkpointEvery = 9
        new.options.keepCheckpoints = 5
        new.options.maxShardBytes = nil
        new.options.onNonFinite = .skip
        new.options.maxSkippedSteps = 3
        // Absent in an older checkpoint (nil) and false mean the same.
        new.options.lossOnAllTokens = false
        #expect(new.changes(from: Self.stored).isEmpty)
        // Data of unknown identity (an older checkpoint) is not compared; known data is.
        new.options.dataIdentity = "100 train tokens"
        #expect(new.changes(from: Self.stored).isEmpty)
        var other = new
        other.options.dataIdentity = "200 train tokens"
        #expect(other.changes(from: new).map(\.field) == ["data_identity"])
    }

    /// A new option has to be classified: run-defining, or free to change on resume.
    @Test func everyOptionIsClassified() throws {
        var options = TrainingOptions()
        options.maxShardBytes = 1
        options.documentAligned = true
        options.statePassing = true
        options.lossOnAllTokens = true
        options.trainOnly = ["encoder."]
        options.onNonFinite = .skip
        options.maxSkippedSteps = 1
        options.dataIdentity = "x"
        options.retrievalWeightDecay = 0.01
        options.retrievalLearningRateScale = 0.1
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(options))
        let keys = Set((object as? [String: Any] ?? [:]).keys)
        let defining = Set(RunDefinition.definingOptionKeys)
        let changeable = Set(RunDefinition.changeableOptionKeys)
        #expect(defining.isDisjoint(with: changeable))
        #expect(keys == defining.union(changeable))
    }

    @Test func resumeRefusesAChangedOptionUnlessAllowed() throws {
        let data = try ResumeTests.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        try ResumeTests.trainer(data: data, run: run).run(stopAfter: 3) { _ in }

        var options = ResumeTests.options()
        options.batchSize = 4
        let changed = try ResumeTests.trainer(data: data, run: run, options: options)
        #expect(
            throws: ResumeMismatchError(
                checkpoint: "step-00000003",
                changes: [.init(field: "batch_size", stored: "2", new: "4")])
        ) { try changed.resumeFromLatestCheckpoint() }
        #expect(changed.step == 0)

        let allowed = try ResumeTests.trainer(data: data, run: run, options: options)
        #expect(try allowed.resumeFromLatestCheckpoint(allowingChangedOptions: true) == 3)
        #expect(allowed.changesSinceCheckpoint.map(\.field) == ["batch_size"])

        var longer = ResumeTests.options()
        longer.steps = 9
        let extended = try ResumeTests.trainer(data: data, run: run, options: longer)
        #expect(try extended.resumeFromLatestCheckpoint() == 3)
        try extended.run { _ in }
        #expect(extended.step == 9)
    }
}
