import Foundation
import HSACore
import HSAInference

/// What produced the results in an evaluation directory: the model (config and weights
/// hashes) and what the samples were generated from. A result is keyed by task, length and
/// sample index only, so resuming into a directory evaluated with another checkpoint or other
/// haystack texts would mix two evaluations in one table; `claim` refuses that instead.
/// Recorded as `evaluation.json` beside `results.jsonl`.
public struct EvalSetup: Codable, Sendable {
    /// The checkpoint evaluated; nil for a reference model.
    public var model: ModelIdentity?
    /// The reference model's name (`--reference-model`), or nil.
    public var referenceModel: String?
    /// Everything else that changes the samples or the model's answers, as name → value
    /// (haystack texts, value space, seed, YaRN), compared as text.
    public var settings: [String: String]

    enum CodingKeys: String, CodingKey {
        case model
        case referenceModel = "reference_model"
        case settings
    }

    /// File name inside the evaluation directory.
    public static let fileName = "evaluation.json"

    public init(model: ModelIdentity?, referenceModel: String?, settings: [String: String]) {
        self.model = model
        self.referenceModel = referenceModel
        self.settings = settings
    }

    /// The first difference from `other` as (what, this value, other value), or nil when both
    /// describe the same evaluation (the checkpoint's path does not count).
    public func difference(from other: EvalSetup) -> (what: String, mine: String, theirs: String)? {
        switch (model, other.model) {
        case (let mine?, let theirs?):
            if let difference = mine.difference(from: theirs) {
                return ("model \(difference.what)", difference.mine, difference.theirs)
            }
        case (nil, nil):
            break
        default:
            return (
                "model", model == nil ? "a reference model" : "a checkpoint",
                other.model == nil ? "a reference model" : "a checkpoint"
            )
        }
        if referenceModel != other.referenceModel {
            return ("reference model", referenceModel ?? "none", other.referenceModel ?? "none")
        }
        for key in Set(settings.keys).union(other.settings.keys).sorted()
        where settings[key] != other.settings[key] {
            return (key, settings[key] ?? "absent", other.settings[key] ?? "absent")
        }
        return nil
    }

    /// Records this setup in `directory`, or checks it against the one recorded there: an
    /// evaluation resumes only results of the same setup. A directory with results but no
    /// record (written before records existed) is adopted.
    /// - Throws: ``EvalError/otherEvaluation(path:what:recorded:now:)`` on a difference.
    public func claim(directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        try JSONLines.refuseSymbolicLink(url)
        if FileManager.default.fileExists(atPath: url.path) {
            let recorded = try JSONDecoder().decode(EvalSetup.self, from: Data(contentsOf: url))
            if let difference = recorded.difference(from: self) {
                throw EvalError.otherEvaluation(
                    path: directory.path, what: difference.what, recorded: difference.mine,
                    now: difference.theirs)
            }
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}
