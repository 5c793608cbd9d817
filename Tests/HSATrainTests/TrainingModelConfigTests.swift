import Foundation
import HSA
import HSATestSupport
import Testing

/// The model config `hsa train` starts with: a new model, a resumed run's, or an initializing
/// model's, with the model flags on top and max_train_len covering the sequence length.
@Suite struct TrainingModelConfigTests {
    /// A data directory whose tokenizer is a BPE of more ids than the presets' 259.
    static func bpeData(in directory: TemporaryDirectory) throws -> String {
        var trainer = try BPETrainer(vocabularySize: 300, minimumPairCount: 1)
        trainer.add(String(repeating: "abcdefghij klmnopqrst uvwxyz 0123456789 ", count: 50))
        let tokenizer = trainer.train()
        #expect(tokenizer.vocabularySize > ModelConfig.tiny.vocabSize)
        let data = directory.file("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try tokenizer.save(to: data.appendingPathComponent("tokenizer.json"))
        return data.path
    }

    /// The vocabulary of the data's tokenizer.
    static func vocabulary(_ data: String) throws -> Int {
        try TokenizerLoader.load(checkpoint: URL(fileURLWithPath: data)).vocabularySize
    }

    static func config(
        source: ModelConfigSource? = nil, overrides: ModelConfigOverrides = .init(),
        run: String, resume: Bool = false, initFrom: String? = nil, data: String,
        sequenceLength: Int = 64
    ) throws -> ModelConfig {
        try TrainingRun.modelConfig(
            source: source, overrides: overrides, runDirectory: run, resume: resume,
            initFrom: initFrom, dataDirectory: data, sequenceLength: sequenceLength)
    }

    @Test func aNewModelKnowsTheDatasTokenizer() throws {
        let directory = try TemporaryDirectory("train-config")
        defer { directory.remove() }
        let data = try Self.bpeData(in: directory)
        let run = directory.file("run").path
        let fresh = try Self.config(run: run, data: data, sequenceLength: 512)
        #expect(fresh.vocabSize == (try Self.vocabulary(data)))
        #expect(fresh.dModel == ModelConfig.tiny.dModel)
        #expect(fresh.maxTrainLen == 512)
        // --vocab-size wins, and max_train_len never shrinks below the preset's.
        var overrides = ModelConfigOverrides()
        overrides.vocabSize = 512
        let given = try Self.config(
            source: .preset("small"), overrides: overrides, run: run, data: data)
        #expect(given.vocabSize == 512 && given.maxTrainLen == ModelConfig.small.maxTrainLen)
    }

    @Test func aResumedRunStartsFromItsStoredConfig() throws {
        let directory = try TemporaryDirectory("train-config")
        defer { directory.remove() }
        let data = try Self.bpeData(in: directory)
        var stored = ModelConfig.tiny
        stored.dModel = 64
        let run = directory.file("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try stored.encoded().write(to: run.appendingPathComponent("config.json"))
        var overrides = ModelConfigOverrides()
        overrides.window = 32
        let resumed = try Self.config(
            overrides: overrides, run: run.path, resume: true, data: data)
        var expected = stored
        expected.window = 32
        #expect(resumed == expected)
        // Without --resume the stored config is not read: a new model of the default preset.
        #expect(try Self.config(run: run.path, data: data).dModel == ModelConfig.tiny.dModel)
        // A preset given with --resume replaces the stored config.
        #expect(
            try Self.config(source: .preset("small"), run: run.path, resume: true, data: data)
                .dModel == ModelConfig.small.dModel)
    }

    @Test func anInitializedRunTakesItsModelsConfigUnlessAFileIsGiven() throws {
        let directory = try TemporaryDirectory("train-config")
        defer { directory.remove() }
        let data = try Self.bpeData(in: directory)
        let initial = directory.file("initial")
        var initConfig = ModelConfig.tiny
        initConfig.nUpperLayers = 3
        initConfig.maxTrainLen = 32
        try LanguageModel(config: initConfig, seed: 1).save(to: initial)
        let run = directory.file("run").path
        let initialized = try Self.config(
            source: .preset("small"), run: run, initFrom: initial.path, data: data)
        // The preset is ignored, the data's tokenizer is not consulted, max_train_len grows.
        #expect(initialized.nUpperLayers == 3 && initialized.vocabSize == initConfig.vocabSize)
        #expect(initialized.maxTrainLen == 64)
        let file = directory.file("paper.json")
        try ModelConfig.paper.encoded().write(to: file)
        let fromFile = try Self.config(
            source: .file(file), run: run, initFrom: initial.path, data: data)
        #expect(fromFile.dModel == ModelConfig.paper.dModel)
        #expect(fromFile.vocabSize == (try Self.vocabulary(data)))
    }
}
