import Foundation
import HSACore

extension LanguageModel {
    /// Loads the checkpoint in `directory` (as `load(from:adjusting:)`), its RoPE attention
    /// extended by YaRN by `yarnFactor` when one is given: against `yarnOriginalLength`, or by
    /// default the length the model was trained on (`max_train_len`).
    public static func load(
        from directory: URL, yarnFactor: Double?, yarnOriginalLength: Int?
    ) throws -> LanguageModel {
        try load(from: directory) { config in
            guard let yarnFactor else { return }
            config.yarn = YaRNScaling(
                factor: yarnFactor, originalLength: yarnOriginalLength ?? config.maxTrainLen)
        }
    }
}
