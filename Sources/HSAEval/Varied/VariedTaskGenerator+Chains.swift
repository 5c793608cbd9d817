import Foundation
import HSACore

/// Variable tracking and bAbI facts: answers that need several facts, in order.
extension VariedTaskGenerator {
    /// Assignment syntaxes: `{a}` takes `{b}` (a value or another variable).
    static let assignmentSyntaxes = [
        "VAR {a} = {b}", "VAR {a} = VAR {b}", "{a} = {b}", "let {a} = {b};", "set {a} to {b}.",
        "{a} := {b}", "assign {b} to {a}.",
    ]
    static let chainQuestions = [
        "Find all variables that are assigned the value {v} in the text above.",
        "Which variables end up holding {v}?",
        "List every variable whose value is {v}.",
        "Question: which variables equal {v}?",
    ]
    /// `{n}`: how many variables hold the value, `{v}`: the value (a count in the prefix lets
    /// the model know when the list ends).
    static let chainAnswerPrefixes = [
        " Answer:", " The variables are", " They are:", "", " In total {n} variables carry {v}:",
        " {n} variables end up with this value. They are",
    ]

    static func fillChainPrefix(_ prefix: String, names: [String], value: String) -> String {
        prefix.replacingOccurrences(of: "{n}", with: String(names.count))
            .replacingOccurrences(of: "{v}", with: value)
    }

    /// Chains of 1-5 assignments from a value through variables, plus 0-2 distractor chains
    /// from other values, in noise or corpus text; half the samples start with a solved
    /// example. The answer is every variable of the queried chain, in order.
    func variableTrackingSample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        let syntax = pick(Self.assignmentSyntaxes, &rng)
        let upper = rng.nextUniform() < 0.6
        var used = Set<String>()
        func chain(hops: Int, rng: inout SplitMix64) -> [String] {
            var names: [String] = []
            while names.count < hops {
                let name = Self.variableName(upper: upper, rng: &rng)
                if used.insert(name).inserted { names.append(name) }
            }
            return names
        }
        func statements(_ names: [String], _ value: String) -> [String] {
            // The first variable takes the value; each further one the variable before it.
            let first = syntax.replacingOccurrences(of: "VAR {b}", with: "{b}")
            return names.indices.map { index in
                (index == 0 ? first : syntax)
                    .replacingOccurrences(of: "{a}", with: names[index])
                    .replacingOccurrences(of: "{b}", with: index == 0 ? value : names[index - 1])
            }
        }
        func fiveDigits(_ rng: inout SplitMix64) -> String {
            String(values.space.integer(in: 10_000...99_999, rng: &rng))
        }
        let value = fiveDigits(&rng)
        let names = chain(hops: Int.random(in: 1...5, using: &rng), rng: &rng)
        var links = statements(names, value).map { (text: $0, isAnswer: true) }
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            let other = fiveDigits(&rng)
            guard other != value else { continue }
            let hops = Int.random(in: 1...4, using: &rng)
            links += statements(chain(hops: hops, rng: &rng), other).map {
                (text: $0, isAnswer: false)
            }
        }
        let question = pick(Self.chainQuestions, &rng)
        let prefixTemplate = pick(Self.chainAnswerPrefixes, &rng)
        let answerPrefix = Self.fillChainPrefix(prefixTemplate, names: names, value: value)
        var intro = "Track the variable assignments in the text below.\n"
        if rng.nextUniform() < 0.5 {
            let exampleValue = fiveDigits(&rng)
            let exampleNames = chain(hops: 2, rng: &rng)
            intro +=
                "Example: " + statements(exampleNames, exampleValue).joined(separator: " ")
                + " " + question.replacingOccurrences(of: "{v}", with: exampleValue)
                + Self.fillChainPrefix(prefixTemplate, names: exampleNames, value: exampleValue)
                + " " + exampleNames.joined(separator: ", ") + ".\n"
        }
        let assembly = SampleAssembly(
            prefix: intro, suffix: "\n" + question.replacingOccurrences(of: "{v}", with: value),
            answerPrefix: answerPrefix, tokensToGenerate: Self.answerBytes(names))
        let budget = try assembly.contextBudget(length: length, task: "varied_vt")
        // Each chain's links keep their order: depths are sorted within a chain.
        var depths = links.map { _ in rng.nextUniform() }
        depths = Self.ordered(depths, groups: links.map(\.isAnswer))
        let filler: FillerSource =
            rng.nextUniform() < 0.5
            ? .repeated(Array(pick(TrainingNoise.lines, &rng).utf8))
            : .sentences(corpus.sentences(bytes: budget, rng: &rng), start: 0)
        let built = try ContextBuilder.build(
            budget: budget, filler: filler, joiner: [0x0A],
            insertions: zip(links, depths).map {
                ContextInsertion(text: Array($0.text.utf8), depth: $1)
            }, rng: &rng, task: "varied_vt", overhead: length - budget)
        let (input, positions) = assembly.input(
            context: built.bytes, offsets: built.insertionOffsets)
        return EvalSample(
            index: 0, input: input, outputs: names, length: length,
            answerPrefix: answerPrefix, task: "varied_vt", suite: "varied",
            needlePositions: zip(positions, links).filter { $0.1.isAnswer }.map(\.0),
            distractorPositions: zip(positions, links).filter { !$0.1.isAnswer }.map(\.0),
            tokensToGenerate: assembly.tokensToGenerate, metric: .stringMatchAll)
    }

    /// `depths` with the entries of the queried chain (`true` in `groups`) sorted among
    /// themselves and the distractor chains' entries sorted among themselves.
    static func ordered(_ depths: [Double], groups: [Bool]) -> [Double] {
        var result = depths
        for flag in [true, false] {
            let indices = groups.indices.filter { groups[$0] == flag }
            for (index, depth) in zip(indices, indices.map { depths[$0] }.sorted()) {
                result[index] = depth
            }
        }
        return result
    }

    /// Five capital letters (RULER's style) or a short lowercase identifier.
    static func variableName(upper: Bool, rng: inout SplitMix64) -> String {
        let base: UInt8 = upper ? UInt8(ascii: "A") : UInt8(ascii: "a")
        let count = upper ? 5 : Int.random(in: 3...6, using: &rng)
        return String(
            (0..<count).map { _ in
                Character(Unicode.Scalar(base + UInt8.random(in: 0..<26, using: &rng)))
            })
    }

    // MARK: - bAbI facts in corpus text

    static let babiInstructions = [
        "The text below mentions people, places and objects. Answer the question from those facts.",
        "Facts about where people and things are are hidden in this text.",
        "Read the story and keep track of who is where.",
    ]

    /// How solved examples are set off from the story (BABILong's `<example>` tags stay out).
    public static let babiExampleWrappers: [(open: String, close: String)] = [
        ("Example:\n", "\n"), ("For example: ", "\n"), ("[solved] ", " [end]\n"),
        ("Here is a short solved story.\n", "\nNow the real text.\n"),
        ("--- sample ---\n", "\n--- end of sample ---\n"),
    ]

    /// A bAbI qa1-qa5 story whose facts are spread, in order, through corpus text. Half the
    /// samples open with one or two solved stories of the same task and the same actors, whose
    /// answers differ from the real one: the answer must come from the text, not the example
    /// (a model that copies the example's answer fails BABILong's prompts, which have them).
    func babiSample(length: Int, rng: inout SplitMix64) throws -> EvalSample {
        let task = pick(BabilongTask.allCases, &rng)
        let story = BabiWorld.story(task, rng: &rng)
        let answerPrefix = pick([" Answer:", "", " The answer is"], &rng)
        var intro = pick(Self.babiInstructions, &rng) + "\n"
        if rng.nextUniform() < 0.5 {
            let wrapper = pick(Self.babiExampleWrappers, &rng)
            // Short, as solved examples are (a third of the story's facts).
            let facts = max(2, task.storyFacts / 3)
            let storyBytes = story.facts.reduce(0) { $0 + $1.utf8.count + 1 }
            for _ in 0..<Int.random(in: 1...2, using: &rng) {
                var example = BabiWorld.story(task, factCount: facts, rng: &rng)
                for _ in 0..<8 where example.answer == story.answer {
                    example = BabiWorld.story(task, factCount: facts, rng: &rng)
                }
                let solved =
                    wrapper.open + example.facts.joined(separator: " ") + " " + example.question
                    + answerPrefix + " " + example.answer + "." + wrapper.close
                // Examples never crowd out the story: at 1K a long qa3 story barely fits alone.
                guard intro.utf8.count + solved.utf8.count + storyBytes < length / 2 else { break }
                intro += solved
            }
        }
        let assembly = SampleAssembly(
            prefix: intro, suffix: "\n" + story.question,
            answerPrefix: answerPrefix, tokensToGenerate: Self.answerBytes([story.answer]))
        let budget = try assembly.contextBudget(length: length, task: "varied_babi")
        let depths = story.facts.map { _ in rng.nextUniform() }.sorted()
        let built = try ContextBuilder.build(
            budget: budget,
            filler: .sentences(corpus.sentences(bytes: budget, rng: &rng), start: 0),
            joiner: [0x20],
            insertions: zip(story.facts, depths).map {
                ContextInsertion(text: Array($0.utf8), depth: $1)
            }, rng: &rng, task: "varied_babi", overhead: length - budget)
        let (input, positions) = assembly.input(
            context: built.bytes, offsets: built.insertionOffsets)
        return EvalSample(
            index: 0, input: input, outputs: [story.answer], length: length,
            answerPrefix: answerPrefix, task: "varied_babi", suite: "varied",
            needlePositions: positions, tokensToGenerate: assembly.tokensToGenerate,
            metric: .stringMatchAll)
    }
}
