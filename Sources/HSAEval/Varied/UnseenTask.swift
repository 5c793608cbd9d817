import HSACore

/// The `unseen` suite: retrieval prompts in wordings no training generator uses, to measure
/// whether a model retrieves or only recognises its training templates.
/// - `passkey`: the pass-key prompt of the long-context literature (Mohtashami & Jaggi 2023,
///   also used by LongLoRA and others): a 5-digit key in repeated filler.
/// - `prose_fact`: one fact in ``FactPhrasings/heldOut`` wording, hidden in held-out prose.
/// - `prose_multikey`: four such facts of one template with different keys; one is asked for.
public enum UnseenTask: String, CaseIterable, Codable, Sendable {
    case passkey
    case proseFact = "prose_fact"
    case proseMultikey = "prose_multikey"

    /// Answer-length limit in tokens: room for a UUID and a sentence end.
    public static let tokensToGenerate = 48
}

/// The literature's pass-key prompt, verbatim.
enum PasskeyPrompt {
    static let instruction =
        "There is an important info hidden inside a lot of irrelevant text. Find it and "
        + "memorize them. I will quiz you about the important information there."
    /// RULER's noise haystack is this prompt's filler.
    static let filler = RulerTemplates.noiseSentence
    static let information = "The pass key is {value}. Remember it. {value} is the pass key."
    static let question = "What is the pass key?"
    static let answerPrefix = " The pass key is"
}

extension TaskGenerator {
    func unseenSample(_ task: UnseenTask, length: Int, rng: inout SplitMix64) throws
        -> EvalSample
    {
        switch task {
        case .passkey: return try passkeySample(length: length, rng: &rng)
        case .proseFact, .proseMultikey:
            return try proseFactSample(task, length: length, rng: &rng)
        }
    }

    private func passkeySample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        let value = String(space.integer(in: 10_000...99_999, rng: &rng))
        let fact = PasskeyPrompt.information.replacingOccurrences(of: "{value}", with: value)
        let assembly = SampleAssembly(
            prefix: PasskeyPrompt.instruction + " ", suffix: " " + PasskeyPrompt.question,
            answerPrefix: PasskeyPrompt.answerPrefix,
            tokensToGenerate: UnseenTask.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: "passkey")
        let built = try ContextBuilder.build(
            budget: budget, filler: .repeated(Array(PasskeyPrompt.filler.utf8)), joiner: [0x20],
            insertions: [ContextInsertion(text: Array(fact.utf8), depth: rng.nextUniform())],
            rng: &rng, task: "passkey", overhead: length - budget)
        let valueOffset = built.insertionOffsets[0] + "The pass key is ".utf8.count
        let (input, positions) = assembly.input(context: built.bytes, offsets: [valueOffset])
        return EvalSample(
            index: 0, input: input, outputs: [value], length: length,
            answerPrefix: assembly.answerPrefix, task: UnseenTask.passkey.rawValue,
            suite: EvalSuite.unseen.rawValue,
            depth: (Double(valueOffset) / Double(max(budget, 1)) * 100).rounded(),
            needlePositions: positions, tokensToGenerate: UnseenTask.tokensToGenerate,
            metric: .stringMatchAll)
    }

    private func proseFactSample(_ task: UnseenTask, length: Int, rng: inout SplitMix64) throws
        -> EvalSample
    {
        let phrasings = FactPhrasings.heldOut
        let varied = VariedValues(sources: sources, space: space)
        let phrasing = phrasings.phrasing(rng: &rng)
        let attr = pick(phrasings.attributes, &rng)
        let keyKind = pick([VariedKeyKind.name, .object, .word], &rng)
        let valueKind = pick([VariedValueKind.number, .word, .code], &rng)
        let keys = varied.keys(keyKind, count: task == .proseMultikey ? 4 : 1, rng: &rng)
        let facts = keys.map { key -> (text: String, value: String) in
            let value = varied.value(valueKind, rng: &rng)
            return (
                FactPhrasings.fill(phrasing.statement, attr: attr, key: key, value: value),
                value
            )
        }
        let query = keys[0]
        let assembly = SampleAssembly(
            prefix: pick(phrasings.instructions, &rng) + "\n",
            suffix: "\n" + FactPhrasings.fill(phrasing.question, attr: attr, key: query),
            answerPrefix: FactPhrasings.fill(phrasing.answerPrefix, attr: attr, key: query),
            tokensToGenerate: UnseenTask.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: task.rawValue)
        let start =
            sources.bookSentences.isEmpty
            ? 0 : Int.random(in: 0..<sources.bookSentences.count, using: &rng)
        let depths = facts.map { _ in rng.nextUniform() }
        let built = try ContextBuilder.build(
            budget: budget, filler: .sentences(sources.bookSentences, start: start),
            joiner: [0x20],
            insertions: zip(facts, depths).map {
                ContextInsertion(text: Array($0.text.utf8), depth: $1)
            }, rng: &rng, task: task.rawValue, overhead: length - budget)
        let offsets = zip(built.insertionOffsets, facts).map { offset, fact in
            offset + VariedTaskGenerator.offset(of: fact.value, in: fact.text)
        }
        let (input, positions) = assembly.input(context: built.bytes, offsets: offsets)
        return EvalSample(
            index: 0, input: input, outputs: [facts[0].value], length: length,
            answerPrefix: assembly.answerPrefix, task: task.rawValue,
            suite: EvalSuite.unseen.rawValue, depth: (depths[0] * 100).rounded(),
            needlePositions: [positions[0]], distractorPositions: Array(positions.dropFirst()),
            tokensToGenerate: UnseenTask.tokensToGenerate, metric: .stringMatchAll)
    }
}
