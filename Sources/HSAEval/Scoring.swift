import Foundation

/// The scoring functions of RULER (scripts/eval/synthetic/constants.py) and BABILong
/// (babilong/metrics.py), per sample, in 0...1.
public enum Scoring {
    /// RULER string_match_all: the fraction of `references` contained in `prediction`,
    /// case-insensitive (0 for no references).
    public static func stringMatchAll(prediction: String, references: [String]) -> Double {
        guard !references.isEmpty else { return 0 }
        let text = prediction.lowercased()
        let found = references.filter { text.contains($0.lowercased()) }.count
        return Double(found) / Double(references.count)
    }

    /// RULER string_match_part: 1 when any reference is contained in `prediction`.
    public static func stringMatchPart(prediction: String, references: [String]) -> Double {
        let text = prediction.lowercased()
        return references.contains { text.contains($0.lowercased()) } ? 1 : 0
    }

    /// BABILong: the prediction's first sentence (lowercased, cut at the first '.', at
    /// `<context>`, `<example>` or `Question`) must mention `target` and no other task label;
    /// labels that occur in the question never count.
    public static func babilongExact(
        prediction: String, target: String, question: String, labels: [String]
    ) -> Double {
        var output = prediction.lowercased()
        for cut in [".", "<context>", "<example>", "question"] {
            if let range = output.range(of: cut) { output = String(output[..<range.lowerBound]) }
        }
        let lowerLabels = Set(labels.map { $0.lowercased() })
        let lowerQuestion = question.lowercased()
        let inQuestion = lowerLabels.filter { lowerQuestion.contains($0) }
        let inOutput = lowerLabels.filter { output.contains($0) }.subtracting(inQuestion)
        return inOutput == [target.lowercased()] ? 1 : 0
    }

    /// The score of `prediction` for `sample` under the sample's metric.
    public static func score(_ prediction: String, for sample: EvalSample) -> Double {
        switch sample.metric {
        case .stringMatchAll:
            return stringMatchAll(prediction: prediction, references: sample.outputs)
        case .stringMatchPart:
            return stringMatchPart(prediction: prediction, references: sample.outputs)
        case .babilongExact:
            let labels = sample.labels ?? sample.outputs
            return babilongExact(
                prediction: prediction, target: sample.outputs.first ?? "",
                question: sample.question ?? "", labels: labels)
        }
    }
}
