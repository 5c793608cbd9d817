import Foundation
import HSACore

// MARK: - Variable tracking

extension TaskGenerator {
    /// RULER vt: one chain `VAR A = 12345`, `VAR B = VAR A`, ... (4 hops) in noise; the answer
    /// is every variable holding the value. (RULER's optional in-context example is omitted.)
    func variableTrackingSample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        let hops = 4
        var names: [String] = []
        while names.count < hops + 1 {
            let letters = (0..<5).map { _ in
                Character(UnicodeScalar(UInt8(ascii: "A") + UInt8.random(in: 0..<26, using: &rng)))
            }
            let name = String(letters)
            if !names.contains(name) { names.append(name) }
        }
        let value = String(space.integer(in: 10_000...99_999, rng: &rng))
        var chain = ["VAR \(names[0]) = \(value)"]
        for j in 0..<hops { chain.append("VAR \(names[j + 1]) = VAR \(names[j]) ") }
        let task = RulerTask.vt
        let parts = RulerTemplates.split(RulerTemplates.fill(RulerTemplates.vt, ["query": value]))
        let assembly = SampleAssembly(
            prefix: parts.prefix, suffix: parts.suffix,
            answerPrefix: RulerTemplates.fill(
                RulerTemplates.vtAnswer, ["query": value, "num_v": String(hops + 1)]),
            tokensToGenerate: task.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: task.rawValue)
        // Chain links go in order at sorted random depths.
        let depths = (0..<chain.count).map { _ in rng.nextUniform() }.sorted()
        let insertions = zip(chain, depths).map {
            ContextInsertion(text: Array($0.utf8), depth: $1)
        }
        let built = try ContextBuilder.build(
            budget: budget, filler: .repeated(Array(RulerTemplates.noiseSentence.utf8)),
            joiner: Array("\n".utf8), insertions: insertions, rng: &rng,
            task: task.rawValue, overhead: length - budget)
        let (input, positions) = assembly.input(
            context: built.bytes, offsets: built.insertionOffsets)
        return EvalSample(
            index: 0, input: input, outputs: names, length: length,
            answerPrefix: assembly.answerPrefix, task: task.rawValue, suite: "ruler",
            needlePositions: positions, tokensToGenerate: task.tokensToGenerate,
            metric: task.metric)
    }
}

// MARK: - Common words extraction

extension TaskGenerator {
    /// RULER cwe: a numbered list where 10 words repeat often (30x; 6x for short contexts)
    /// and the rest rarely (3x; 1x), after one solved example; the answer is the 10 common
    /// words. RULER switches to the short settings below 4K subword tokens; with byte tokens
    /// (about 4 per subword token) the switch is below 16K.
    func commonWordsSample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        let task = RulerTask.cwe
        let short = length < 16_384
        let (commonRepeats, rareRepeats) = short ? (6, 1) : (30, 3)
        let base = space.half(
            of: Array(Set(sources.nouns + sources.adjectives + sources.verbs))
                .sorted())
        let budgetEstimate = max(0, length - 1 - task.tokensToGenerate)
        // An entry takes at least 5 bytes ("1. a "), which bounds the words a list can hold.
        let pool = WordPool(
            base: base.isEmpty ? ["word"] : base, sampler: values,
            maximumWords: budgetEstimate / (5 * rareRepeats) + 10, rng: &rng)
        // One solved example, as RULER adds (its words drawn from the same pool).
        let exampleWords = (0..<(short ? 20 : 40)).map { _ in
            pool.word(Int.random(in: 0..<pool.base.count, using: &rng))
        }
        let example = numberedList(
            entries(
                exampleWords, common: 10, commonRepeats: short ? 3 : 10,
                rareRepeats: short ? 1 : 3, rng: &rng))
        let exampleText =
            RulerTemplates.fill(RulerTemplates.cwe, ["context": example]) + " "
            + numberedList(Array(exampleWords.prefix(10)))
        let parts = RulerTemplates.split(RulerTemplates.cwe)
        let assembly = SampleAssembly(
            prefix: exampleText + "\n" + parts.prefix, suffix: parts.suffix,
            answerPrefix: RulerTemplates.cweAnswer, tokensToGenerate: task.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: task.rawValue)
        // Largest word count whose list fits (list length grows with the count).
        func listBytes(_ count: Int) -> Int {
            let lengths = (0..<count).map { pool.word($0).utf8.count }
            let entryCount = 10 * commonRepeats + (count - 10) * rareRepeats
            let wordBytes =
                lengths.prefix(10).reduce(0, +) * commonRepeats
                + lengths.dropFirst(10).reduce(0, +) * rareRepeats
            return wordBytes + numberingBytes(entryCount) + 3 * entryCount - 1
        }
        guard listBytes(10) <= budget else {
            throw EvalError.lengthTooShort(
                task: task.rawValue, length: length, minimum: length - budget + listBytes(10))
        }
        var low = 10
        var high = 11
        while listBytes(high) <= budget { high *= 2 }
        while high - low > 1 {
            let middle = (low + high) / 2
            if listBytes(middle) <= budget { low = middle } else { high = middle }
        }
        let words = (0..<low).map { pool.word($0) }
        var context = Array(
            numberedList(
                entries(
                    words, common: 10, commonRepeats: commonRepeats, rareRepeats: rareRepeats,
                    rng: &rng)
            ).utf8)
        context += [UInt8](repeating: UInt8(ascii: " "), count: budget - context.count)
        let (input, _) = assembly.input(context: context, offsets: [])
        return EvalSample(
            index: 0, input: input, outputs: Array(words.prefix(10)), length: length,
            answerPrefix: assembly.answerPrefix, task: task.rawValue, suite: "ruler",
            tokensToGenerate: task.tokensToGenerate, metric: task.metric)
    }

    /// Common words `commonRepeats` times, the rest `rareRepeats` times, shuffled.
    private func entries(
        _ words: [String], common: Int, commonRepeats: Int, rareRepeats: Int,
        rng: inout SplitMix64
    ) -> [String] {
        var list: [String] = []
        for (i, word) in words.enumerated() {
            list += Array(repeating: word, count: i < common ? commonRepeats : rareRepeats)
        }
        list.shuffle(using: &rng)
        return list
    }

    /// "1. a 2. b 3. c".
    private func numberedList(_ words: [String]) -> String {
        words.enumerated().map { "\($0 + 1). \($1)" }.joined(separator: " ")
    }

    /// Total decimal digits of 1...n.
    private func numberingBytes(_ n: Int) -> Int {
        var total = 0
        var start = 1
        var digits = 1
        while start <= n {
            let end = min(n, start * 10 - 1)
            total += (end - start + 1) * digits
            start *= 10
            digits += 1
        }
        return total
    }
}

/// Distinct words in a seeded order: the shuffled base list, then adjective-noun compounds,
/// then numbered copies (only very long cwe contexts reach those).
struct WordPool {
    let base: [String]
    let compounds: [String]

    init(
        base: [String], sampler: NeedleValueSampler, maximumWords: Int, rng: inout SplitMix64
    ) {
        var shuffled = base
        shuffled.shuffle(using: &rng)
        self.base = shuffled
        var seen = Set(shuffled)
        var extra: [String] = []
        // Compounds only when the base list cannot fill the longest possible list.
        let wanted = min(200_000, max(0, maximumWords - base.count))
        var attempts = 0
        while extra.count < wanted, attempts < 4 * wanted {
            attempts += 1
            let word = sampler.word(rng: &rng)
            if seen.insert(word).inserted { extra.append(word) }
        }
        compounds = extra
    }

    /// The word at position `index` of the pool.
    func word(_ index: Int) -> String {
        if index < base.count { return base[index] }
        let rest = index - base.count
        if rest < compounds.count { return compounds[rest] }
        let copy = rest - compounds.count
        let source = compounds.isEmpty ? base : compounds
        return source[copy % source.count] + String(copy / source.count + 2)
    }
}

// MARK: - Frequent words extraction

extension TaskGenerator {
    /// RULER fwe: coded six-letter words with Zipf counts (alpha 2); the answer is the three
    /// most frequent after the top-ranked noise word "...".
    func frequentWordsSample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        let task = RulerTask.fwe
        let alpha = 2.0
        let zeta = Double.pi * Double.pi / 6  // zeta(2)
        let parts = RulerTemplates.split(RulerTemplates.fwe)
        let assembly = SampleAssembly(
            prefix: parts.prefix, suffix: parts.suffix, answerPrefix: RulerTemplates.fweAnswer,
            tokensToGenerate: task.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: task.rawValue)
        let vocabularySize = max(5, (length - task.tokensToGenerate) / 50)
        func count(_ words: Int, rank: Int) -> Int {
            Int(Double(words) * pow(Double(rank), -alpha) / zeta)
        }
        func textBytes(_ words: Int) -> Int {
            var total = 0
            for rank in 1...vocabularySize {
                let c = count(words, rank: rank)
                if c == 0 { break }
                total += c * ((rank == 1 ? 3 : 6) + 1)
            }
            return total - 1
        }
        // The third answer must be strictly more frequent than the next word.
        let minimumWords = 120
        guard textBytes(minimumWords) <= budget else {
            throw EvalError.lengthTooShort(
                task: task.rawValue, length: length,
                minimum: length - budget + textBytes(minimumWords))
        }
        var low = minimumWords
        var high = minimumWords + 1
        while textBytes(high) <= budget { high *= 2 }
        while high - low > 1 {
            let middle = (low + high) / 2
            if textBytes(middle) <= budget { low = middle } else { high = middle }
        }
        // Coded words: first letter a-m for evaluation, n-z for training.
        let firstLetters: ClosedRange<UInt8> = space == .evaluation ? 0...12 : 13...25
        var vocabulary = ["..."]
        var seen: Set<String> = ["..."]
        let used = (1...vocabularySize).prefix { count(low, rank: $0) > 0 }.count
        while vocabulary.count < max(used, 5) {
            var letters = [UInt8.random(in: firstLetters, using: &rng)]
            for _ in 0..<5 { letters.append(UInt8.random(in: 0..<26, using: &rng)) }
            let word = String(decoding: letters.map { $0 + UInt8(ascii: "a") }, as: UTF8.self)
            if seen.insert(word).inserted { vocabulary.append(word) }
        }
        var words: [String] = []
        for (index, word) in vocabulary.enumerated() {
            words += Array(repeating: word, count: count(low, rank: index + 1))
        }
        words.shuffle(using: &rng)
        var context = Array(words.joined(separator: " ").utf8)
        context += [UInt8](repeating: UInt8(ascii: " "), count: budget - context.count)
        let (input, _) = assembly.input(context: context, offsets: [])
        return EvalSample(
            index: 0, input: input, outputs: Array(vocabulary[1...3]), length: length,
            answerPrefix: assembly.answerPrefix, task: task.rawValue, suite: "ruler",
            tokensToGenerate: task.tokensToGenerate, metric: task.metric)
    }
}
