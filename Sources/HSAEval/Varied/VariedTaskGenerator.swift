import Foundation
import HSACore
import HSAData
import HSAReport

/// The kinds of varied training tasks (`hsa data tasks`).
public enum VariedTaskKind: String, CaseIterable, Codable, Sendable {
    /// One keyed fact, one question.
    case single
    /// One queried fact among look-alike facts of other keys.
    case multikey
    /// Several values stated for one key; all are asked for.
    case multivalue
    /// Several keys asked for at once.
    case multiquery
    /// A pass-key-style prompt: one unkeyed value in repeated filler.
    case passkey
    /// Chains of variable assignments, in several syntaxes, sometimes after a solved example.
    case vt
    /// bAbI qa1-qa5 facts spread through corpus text.
    case babi
    /// Several documents one after another; the fact is in an earlier one.
    case multidoc
}

/// Generates long-context training samples whose *form* varies: haystacks (corpus text,
/// repeated filler, word lists, look-alike facts), phrasings (``FactPhrasings/training``), key
/// and value kinds, numbers of keys, values and queries, depths and instructions. Values come
/// from the training ``ValueSpace``; RULER's and the `unseen` suite's wordings are not used,
/// so evaluation prompts stay unseen.
public struct VariedTaskGenerator: Sendable {
    /// Text to hide facts in (training documents only).
    public let corpus: HaystackCorpus
    let values: VariedValues
    let words: [String]
    let phrasings = FactPhrasings.training

    /// Creates a generator over `corpus`, with word lists from `sources`.
    public init(corpus: HaystackCorpus, sources: EvalTextSources) {
        self.corpus = corpus
        values = VariedValues(sources: sources, space: .training)
        let pool = ValueSpace.training.half(of: sources.nouns + sources.verbs)
        words = pool.isEmpty ? ["word"] : pool
    }

    /// Sample `index` of `kind` at exactly `length` tokens (byte tokenizer, BOS included).
    public func sample(_ kind: VariedTaskKind, length: Int, index: Int, seed: UInt64) throws
        -> EvalSample
    {
        try sample(kind, length: length, byteLength: length, index: index, seed: seed)
    }

    /// Sample `index` of `kind` for `length`, built to exactly `byteLength` bytes. The seed
    /// comes from `length`, so a sample rebuilt at another byte length (to fit a subword
    /// tokenizer's budget) is still a function of its kind, length, index and seed alone.
    func sample(
        _ kind: VariedTaskKind, length: Int, byteLength: Int, index: Int, seed: UInt64
    ) throws -> EvalSample {
        let derived = SampleSeed.derive(
            seed: ValueSpace.training.effectiveSeed(seed), task: "varied_" + kind.rawValue,
            length: length, index: index)
        var rng = SplitMix64(seed: derived)
        var sample: EvalSample
        switch kind {
        case .single, .multikey, .multivalue, .multiquery, .multidoc:
            sample = try factSample(kind, length: byteLength, rng: &rng)
        case .passkey: sample = try passkeySample(length: byteLength, rng: &rng)
        case .vt: sample = try variableTrackingSample(length: byteLength, rng: &rng)
        case .babi: sample = try babiSample(length: byteLength, rng: &rng)
        }
        sample.index = index
        sample.seed = seed
        sample.length = length
        return sample
    }

    /// Writes `count` samples in `tokenizer`'s tokens as `SynthMixture.write` does: the kinds
    /// take turns, each length is drawn uniformly from `lengths` (a stream seeded by `seed`).
    @discardableResult
    public func write(
        count: Int, kinds: [VariedTaskKind], lengths: [Int], seed: UInt64,
        tokenizer: any Tokenizer = ByteTokenizer(), to directory: URL,
        shardTokens: Int = 16 << 20, progress: ProgressBar? = nil
    ) throws -> SynthMixture.Manifest {
        var lengthRNG = SplitMix64(seed: seed ^ 0x7A5C_0DE5)
        let picked = (0..<count).map { _ in pick(lengths, &lengthRNG) }
        return try SynthMixture.write(
            count: count, tokenizer: tokenizer, to: directory, shardTokens: shardTokens,
            progress: progress
        ) { index in
            try sample(
                kinds[index % kinds.count], length: picked[index], index: index, seed: seed,
                tokenizer: tokenizer)
        }
    }

    // MARK: - Keyed facts

    /// How many keys, values per key and queried keys each keyed kind has.
    private func counts(_ kind: VariedTaskKind, rng: inout SplitMix64)
        -> (keys: Int, values: Int, queries: Int)
    {
        switch kind {
        case .multikey: return (Int.random(in: 2...8, using: &rng), 1, 1)
        case .multivalue:
            return (Int.random(in: 1...3, using: &rng), Int.random(in: 2...4, using: &rng), 1)
        case .multiquery:
            let keys = Int.random(in: 2...6, using: &rng)
            return (keys, 1, Int.random(in: 2...min(keys, 4), using: &rng))
        default: return (1, 1, 1)
        }
    }

    func factSample(_ kind: VariedTaskKind, length: Int, rng: inout SplitMix64) throws
        -> EvalSample
    {
        let (keyCount, valueCount, queryCount) = counts(kind, rng: &rng)
        let phrasing = phrasings.phrasing(plural: valueCount * queryCount > 1, rng: &rng)
        let attr = pick(phrasings.attributes, &rng)
        let keyKind = pick(VariedKeyKind.allCases, &rng)
        let valueKind = pick(VariedValueKind.allCases, &rng)
        let keys = values.keys(keyKind, count: keyCount, rng: &rng)
        let queried = Array(keys.prefix(queryCount))
        var facts: [(text: String, value: String, isAnswer: Bool)] = []
        for key in keys {
            for _ in 0..<valueCount {
                let value = values.value(valueKind, rng: &rng)
                let text = FactPhrasings.fill(
                    phrasing.statement, attr: attr, key: key, value: value)
                facts.append((text, value, queried.contains(key)))
            }
        }
        let query = Self.list(queried)
        let answers = facts.filter(\.isAnswer).map(\.value)
        let intro = rng.nextUniform() < 0.5 ? pick(phrasings.instructions, &rng) + "\n" : ""
        var question = FactPhrasings.fill(phrasing.question, attr: attr, key: query)
        if kind == .multidoc, rng.nextUniform() < 0.5 {
            question = "One of the documents above answers this. " + question
        }
        let assembly = SampleAssembly(
            prefix: intro, suffix: "\n" + question,
            answerPrefix: FactPhrasings.fill(phrasing.answerPrefix, attr: attr, key: query),
            tokensToGenerate: Self.answerBytes(answers))
        let budget = try assembly.contextBudget(length: length, task: "varied_" + kind.rawValue)
        let haystack: (filler: FillerSource, joiner: [UInt8], depths: ClosedRange<Double>)
        if kind == .multidoc {
            haystack = documentsHaystack(budget: budget, rng: &rng)
        } else {
            let (filler, joiner) = fillerHaystack(
                budget: budget, phrasing: phrasing, attr: attr, keyKind: keyKind,
                valueKind: valueKind, avoiding: Set(keys), rng: &rng)
            haystack = (filler, joiner, 0...1)
        }
        let insertions = facts.map { fact in
            ContextInsertion(
                text: Array(fact.text.utf8),
                depth: Double.random(in: haystack.depths, using: &rng))
        }
        let built = try ContextBuilder.build(
            budget: budget, filler: haystack.filler, joiner: haystack.joiner,
            insertions: insertions, rng: &rng, task: "varied_" + kind.rawValue,
            overhead: length - budget)
        let (input, positions) = assembly.input(
            context: built.bytes,
            offsets: zip(built.insertionOffsets, facts).map { offset, fact in
                offset + Self.offset(of: fact.value, in: fact.text)
            })
        return EvalSample(
            index: 0, input: input, outputs: answers, length: length,
            answerPrefix: assembly.answerPrefix, task: "varied_" + kind.rawValue,
            suite: "varied",
            needlePositions: zip(positions, facts).filter { $0.1.isAnswer }.map(\.0),
            distractorPositions: zip(positions, facts).filter { !$0.1.isAnswer }.map(\.0),
            tokensToGenerate: assembly.tokensToGenerate, metric: .stringMatchAll)
    }

    /// Corpus text, repeated filler, word lists or look-alike facts of other keys.
    private func fillerHaystack(
        budget: Int, phrasing: FactPhrasing, attr: String, keyKind: VariedKeyKind,
        valueKind: VariedValueKind, avoiding keys: Set<String>, rng: inout SplitMix64
    ) -> (FillerSource, [UInt8]) {
        let roll = rng.nextUniform()
        if roll < 0.55 {
            return (.sentences(corpus.sentences(bytes: budget, rng: &rng), start: 0), [0x20])
        }
        if roll < 0.7 {
            return (.repeated(Array(pick(TrainingNoise.lines, &rng).utf8)), [0x0A])
        }
        if roll < 0.8 {
            let words = self.words
            return (.generated { rng in TrainingNoise.wordLine(words, rng: &rng) }, [0x0A])
        }
        let values = self.values
        return (
            .generated { rng in
                var key = values.key(keyKind, rng: &rng)
                while keys.contains(key) { key = values.key(keyKind, rng: &rng) }
                return Array(
                    FactPhrasings.fill(
                        phrasing.statement, attr: attr, key: key,
                        value: values.value(valueKind, rng: &rng)
                    ).utf8)
            }, [0x0A]
        )
    }

    /// Two to five corpus documents, each under a header; facts go into all but the last.
    private func documentsHaystack(budget: Int, rng: inout SplitMix64)
        -> (filler: FillerSource, joiner: [UInt8], depths: ClosedRange<Double>)
    {
        let count = Int.random(in: 2...5, using: &rng)
        let header = pick(Self.documentHeaders, &rng)
        var sentences: [[UInt8]] = []
        for number in 1...count {
            sentences.append(Array(header.replacingOccurrences(of: "{i}", with: "\(number)").utf8))
            sentences += corpus.sentences(bytes: budget / count, rng: &rng)
        }
        return (.sentences(sentences, start: 0), [0x20], 0...(Double(count - 1) / Double(count)))
    }

    static let documentHeaders = [
        "\nDocument {i}:\n", "\n=== File {i} ===\n", "\n[doc {i}]\n", "\nText {i}.\n",
        "\n## Part {i}\n",
    ]

    // MARK: - Pass key

    static let passkeyStatements = [
        "The {attr} is {value}. Do not forget it: {value}.",
        "Hidden detail: the {attr} is {value}.",
        "{value} is the {attr}. Keep it safe.",
        "Here it is - the {attr}: {value}. Again, {value}.",
    ]

    func passkeySample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        let attr = pick(phrasings.attributes, &rng)
        let value = values.value(rng.nextUniform() < 0.7 ? .number : .code, rng: &rng)
        let fact = FactPhrasings.fill(
            pick(Self.passkeyStatements, &rng), attr: attr, key: "", value: value)
        let assembly = SampleAssembly(
            prefix: pick(phrasings.instructions, &rng) + "\n",
            suffix: "\n" + FactPhrasings.fill("What is the {attr}?", attr: attr, key: ""),
            answerPrefix: FactPhrasings.fill(" The {attr} is", attr: attr, key: ""),
            tokensToGenerate: Self.answerBytes([value]))
        let budget = try assembly.contextBudget(length: length, task: "varied_passkey")
        let built = try ContextBuilder.build(
            budget: budget, filler: .repeated(Array(pick(TrainingNoise.lines, &rng).utf8)),
            joiner: [0x20],
            insertions: [ContextInsertion(text: Array(fact.utf8), depth: rng.nextUniform())],
            rng: &rng, task: "varied_passkey", overhead: length - budget)
        let (input, positions) = assembly.input(
            context: built.bytes,
            offsets: built.insertionOffsets.map { $0 + Self.offset(of: value, in: fact) })
        return EvalSample(
            index: 0, input: input, outputs: [value], length: length,
            answerPrefix: assembly.answerPrefix, task: "varied_passkey", suite: "varied",
            needlePositions: positions, tokensToGenerate: assembly.tokensToGenerate,
            metric: .stringMatchAll)
    }

    // MARK: - Helpers

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        guard items.count > 1, let last = items.last else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + last
    }

    /// Tokens of the training answer " a, b, c." plus EOS (``SynthMixture/answerText(_:)``).
    static func answerBytes(_ answers: [String]) -> Int {
        answers.joined(separator: ", ").utf8.count + 3
    }

    /// Byte offset of `value` in `text` (0 when absent).
    static func offset(of value: String, in text: String) -> Int {
        guard let range = text.range(of: value) else { return 0 }
        return text.utf8.distance(from: text.startIndex, to: range.lowerBound)
    }
}
