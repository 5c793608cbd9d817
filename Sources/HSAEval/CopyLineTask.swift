import HSACore

/// The copy suite: the retrieval toy of dev/retrieval-toy as an evaluation. A line of 24 random
/// lowercase letters, `|`, random uppercase filler up to the requested length, `|`; the answer
/// is the 24 letters. Nothing in the filler resembles them and the only way to reach them past
/// the sliding window is retrieval, so accuracy against length measures how far retrieval
/// generalizes (the models in models/ were trained on lines of at most ~160 tokens).
public enum CopyTask: String, CaseIterable, Codable, Sendable {
    case copyLine = "copy_line"

    /// Letters to copy.
    public static let letterCount = 24
    /// The answer is the letters; nothing else is generated.
    public static let tokensToGenerate = letterCount
    /// BOS, letters, two bars and the answer leave at least one filler byte.
    public static let minimumLength = 1 + letterCount + 2 + tokensToGenerate + 1
}

extension TaskGenerator {
    /// `[BOS] letters | FILLER |` + 24 generated tokens, exactly `length` tokens.
    func copyLineSample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        guard length >= CopyTask.minimumLength else {
            throw EvalError.lengthTooShort(
                task: CopyTask.copyLine.rawValue, length: length,
                minimum: CopyTask.minimumLength)
        }
        let lowercase = Array("abcdefghijklmnopqrstuvwxyz")
        let filler = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ ")
        let letters = String(
            (0..<CopyTask.letterCount).map { _ in
                lowercase[Int(rng.next() % UInt64(lowercase.count))]
            })
        let fillerLength = length - 1 - CopyTask.letterCount - 2 - CopyTask.tokensToGenerate
        var input = letters + "|"
        input.reserveCapacity(length)
        for _ in 0..<fillerLength { input.append(filler[Int(rng.next() % UInt64(filler.count))]) }
        input += "|"
        return EvalSample(
            index: 0, input: input, outputs: [letters], length: length, answerPrefix: "",
            task: CopyTask.copyLine.rawValue, suite: EvalSuite.copy.rawValue, depth: 0,
            needlePositions: [1], tokensToGenerate: CopyTask.tokensToGenerate,
            metric: .stringMatchAll)
    }
}
