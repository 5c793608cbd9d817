import Foundation
import HSACore
import HSAInference

extension EvalSetup {
    /// The setup of an `hsa eval` run: the checkpoint in `checkpoint` (nil for the reference
    /// model `referenceModel`), the haystack `texts` (`EvalTextSources.summary`), the value
    /// `space`, the `seed`, YaRN when given, and the contents of the task file when the samples
    /// come from one.
    /// - Throws: when the task file or the checkpoint cannot be read.
    public init(
        checkpoint: URL?, referenceModel: String?, texts: String, space: String, seed: UInt64,
        yarnFactor: Double?, yarnOriginalLength: Int?, tasksFile: URL?
    ) throws {
        var settings = ["texts": texts, "space": space, "seed": "\(seed)"]
        if let yarnFactor { settings["yarn_factor"] = "\(yarnFactor)" }
        if let yarnOriginalLength { settings["yarn_original_length"] = "\(yarnOriginalLength)" }
        if let tasksFile { settings["tasks_file_sha256"] = try SHA256.fileHex(at: tasksFile) }
        self.init(
            model: try checkpoint.map { try ModelIdentity(checkpoint: $0) },
            referenceModel: referenceModel, settings: settings)
    }
}
