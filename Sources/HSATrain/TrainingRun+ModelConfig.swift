import Foundation
import HSAData
import HSAModel

extension TrainingRun {
    /// The model config a run in `runDirectory` trains, `overrides` set on top of:
    /// - when resuming a run that has a config.json: `source` if given, else that stored
    ///   config (the trainer then refuses any difference from the checkpoint's unless changed
    ///   options are allowed);
    /// - when initialized from `initFrom` and no config file is given: that model's config;
    /// - otherwise `source`, else the default preset; unless `overrides` sets the vocabulary
    ///   size, it grows to the data's tokenizer's (a BPE vocabulary is larger than the
    ///   presets' 259).
    ///
    /// `maxTrainLen` is raised to `sequenceLength`: it records the longest sequence trained on
    /// (YaRN's original length), also for a model initialized from one trained on shorter ones.
    /// - Throws: `ConfigError` for a config that cannot be read or is invalid, `TokenizerError`
    ///   for the data's tokenizer.
    public static func modelConfig(
        source: ModelConfigSource?, overrides: ModelConfigOverrides, runDirectory: String,
        resume: Bool, initFrom: String?, dataDirectory: String, sequenceLength: Int
    ) throws -> ModelConfig {
        let stored = URL(fileURLWithPath: runDirectory).appendingPathComponent("config.json")
        var config: ModelConfig
        if resume, FileManager.default.fileExists(atPath: stored.path) {
            let storedConfig = try ModelConfig.load(from: stored)
            config = try overrides.applied(to: source?.load() ?? storedConfig)
        } else if let initFrom, !source.isFile {
            let initConfig = URL(fileURLWithPath: initFrom).appendingPathComponent("config.json")
            config = try overrides.applied(to: ModelConfig.load(from: initConfig))
        } else {
            config = try overrides.applied(to: (source ?? .default).load())
            if overrides.vocabSize == nil {
                let tokenizer = try TokenizerLoader.load(
                    checkpoint: URL(fileURLWithPath: dataDirectory))
                config.vocabSize = max(config.vocabSize, tokenizer.vocabularySize)
            }
        }
        config.maxTrainLen = max(config.maxTrainLen, sequenceLength)
        return config
    }
}

extension ModelConfigSource? {
    /// Whether a config file is given.
    fileprivate var isFile: Bool {
        if case .file = self { return true }
        return false
    }
}
