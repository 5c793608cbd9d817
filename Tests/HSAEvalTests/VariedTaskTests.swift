import Foundation
import HSA
import Testing

/// A generator over the built-in novel's text (tests need no corpus on disk).
private let variedGenerator = VariedTaskGenerator(
    corpus: HaystackCorpus(texts: [BuiltInTextForTests.novel]), sources: .builtIn)

private enum BuiltInTextForTests {
    static let novel = String(
        repeating: "The orchard lay behind the house. Apples ripened slowly in the late sun. "
            + "Nobody came down the lane that week, and the well-water tasted of iron. ",
        count: 20)
}

@Suite struct VariedTaskTests {
    @Test func everyKindFillsTheLengthAndHidesItsAnswers() throws {
        let tokenizer = ByteTokenizer()
        for kind in VariedTaskKind.allCases {
            for (index, length) in [1024, 2048, 4096].enumerated() {
                let sample = try variedGenerator.sample(
                    kind, length: length, index: index, seed: 5)
                let answer = SynthMixture.tokens(sample)
                #expect(
                    promptTokenCount(sample) + sample.tokensToGenerate == length,
                    "\(kind) at \(length)")
                // The training tokens (prompt, answer, EOS) fit the length exactly.
                #expect(answer.tokens.count == length, "\(kind) at \(length)")
                #expect(sample.input.utf8.allSatisfy { $0 < 128 }, "\(kind) is not ASCII")
                #expect(!sample.needlePositions.isEmpty, "\(kind)")
                // Every answer stands in the context (bAbI: as a label of a fact).
                let prompt = [tokenizer.bos] + tokenizer.encode(sample.promptText)
                for output in sample.outputs {
                    #expect(sample.input.contains(output), "\(kind): \(output) not in context")
                }
                if kind != .babi, kind != .vt {
                    let first = sample.needlePositions[0]
                    let text = tokenizer.decode(
                        Array(prompt[first..<min(prompt.count, first + 40)]))
                    #expect(
                        sample.outputs.contains { text.hasPrefix($0) },
                        "\(kind): needle position does not point at an answer: \(text)")
                }
            }
        }
    }

    @Test func babiSamplesSometimesOpenWithSolvedExamplesOfAnotherAnswer() throws {
        let samples = try (0..<40).map {
            try variedGenerator.sample(.babi, length: 2048, index: $0, seed: 9)
        }
        let opens = VariedTaskGenerator.babiExampleWrappers.map(\.open)
        let withExamples = samples.filter { sample in
            opens.contains { sample.input.contains($0) }
        }
        #expect(withExamples.count > 5 && withExamples.count < 35)
        for sample in withExamples {
            // An example's solved answer ("?<prefix> <label>.") is never the sample's own label.
            let solved = "?" + sample.answerPrefix + " " + sample.outputs[0] + "."
            #expect(!sample.input.contains(solved), "an example answers with the real label")
        }
        #expect(!samples.contains { $0.input.contains("<example>") })
    }

    @Test func variableTrackingPrefixesThatCountTheVariablesCountThemRight() throws {
        let samples = try (0..<60).map {
            try variedGenerator.sample(.vt, length: 2048, index: $0, seed: 4)
        }
        let counted = samples.filter { $0.answerPrefix.contains("variables") }
            .filter { $0.answerPrefix.contains(where: \.isNumber) }
        #expect(!counted.isEmpty)
        for sample in counted {
            #expect(sample.answerPrefix.contains(" \(sample.outputs.count) variables"))
        }
    }

    @Test func samplesAreDeterministicAndVaried() throws {
        let a = try variedGenerator.sample(.single, length: 2048, index: 1, seed: 3)
        let b = try variedGenerator.sample(.single, length: 2048, index: 1, seed: 3)
        #expect(a == b)
        // 40 single-fact samples use more than ten different questions.
        let questions = Set(
            try (0..<40).map { index in
                try variedGenerator.sample(.single, length: 1024, index: index, seed: 3).input
                    .split(separator: "\n").last.map(String.init) ?? ""
            }.map { $0.prefix(12) })
        #expect(questions.count > 10)
    }

    /// The held-out phrasings and the literature's pass-key prompt never reach training data.
    @Test func trainingSamplesNeverUseEvaluationWordings() throws {
        let heldOut = FactPhrasings.heldOut
        let training = FactPhrasings.training
        #expect(Set(heldOut.attributes).isDisjoint(with: training.attributes))
        #expect(Set(heldOut.statements).isDisjoint(with: training.statements))
        #expect(Set(heldOut.questions).isDisjoint(with: training.questions))
        // Literal pieces of the held-out templates (between slots), long enough to be a wording.
        let pieces = (heldOut.statements + heldOut.questions + heldOut.instructions)
            .flatMap { $0.components(separatedBy: CharacterSet(charactersIn: "{}")) }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.count >= 12 && !["attr", "key", "value"].contains($0) }
        let forbidden =
            pieces + heldOut.attributes.map { " \($0) " } + [
                "pass key", "The grass is green. The sky is blue.",
                "There is an important info hidden",
                // RULER's questions for several values.
                "mentioned in the provided text", "What are all the special magic",
            ]
        for kind in VariedTaskKind.allCases {
            for index in 0..<25 {
                let sample = try variedGenerator.sample(
                    kind, length: 2048, index: index, seed: 11)
                let text = sample.promptText
                for phrase in forbidden {
                    #expect(!text.contains(phrase), "\(kind) #\(index) contains '\(phrase)'")
                }
            }
        }
    }

    /// Several values are asked for in the plural too ("Which ... belong to"), never only as
    /// "What is the ...", so RULER's plural questions are not a wording the model never met.
    @Test func samplesWithSeveralAnswersAskInThePlural() throws {
        // A piece of each plural question that no singular one has.
        let markers = [
            "belong to", "List every", "were assigned", "Name all the", "Give each",
            "What are the", "Question: all", "listed in the text",
        ]
        #expect(markers.count == FactPhrasings.training.pluralQuestions.count)
        func isPlural(_ sample: EvalSample) -> Bool {
            let question = sample.input.split(separator: "\n").last.map(String.init) ?? ""
            return markers.contains { question.contains($0) }
        }
        let multivalue = try (0..<30).map {
            try variedGenerator.sample(.multivalue, length: 2048, index: $0, seed: 2)
        }
        let pluralCount = multivalue.filter(isPlural).count
        #expect(pluralCount > 5 && pluralCount < 25, "\(pluralCount) of 30 plural")
        for index in 0..<30 {
            let sample = try variedGenerator.sample(.single, length: 1024, index: index, seed: 2)
            #expect(!isPlural(sample), "single #\(index)")
        }
    }

    @Test func unseenTasksFillTheLengthAndPointAtTheirAnswer() throws {
        let tokenizer = ByteTokenizer()
        for task in EvalSuite.unseen.tasks {
            for length in [1024, 4096, 20000] {
                let sample = try builtInGenerator.sample(task, length: length, index: 2, seed: 9)
                #expect(promptTokenCount(sample) + sample.tokensToGenerate == length)
                let prompt = [tokenizer.bos] + tokenizer.encode(sample.promptText)
                let position = try #require(sample.needlePositions.first)
                let text = tokenizer.decode(Array(prompt[position..<(position + 40)]))
                #expect(text.hasPrefix(sample.outputs[0]), "\(task): \(text)")
            }
        }
        let passkey = try builtInGenerator.sample(
            .unseen(.passkey), length: 4096, index: 0, seed: 1)
        #expect(passkey.input.hasPrefix("There is an important info hidden"))
        #expect(passkey.promptText.hasSuffix("What is the pass key? The pass key is"))
        let multikey = try builtInGenerator.sample(
            .unseen(.proseMultikey), length: 4096, index: 0, seed: 1)
        #expect(multikey.distractorPositions.count == 3)
    }
}
