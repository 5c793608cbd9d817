import Foundation
import HSA
import Testing

@Suite struct GeneratorTests {
    @Test func everyTaskIsDeterministicPerSeedAndDiffersAcrossSeeds() throws {
        for task in EvalSuite.ruler.tasks + EvalSuite.babilong.tasks {
            let a = try builtInGenerator.sample(task, length: 2048, index: 3, seed: 7)
            let b = try builtInGenerator.sample(task, length: 2048, index: 3, seed: 7)
            let c = try builtInGenerator.sample(task, length: 2048, index: 3, seed: 8)
            #expect(a == b, "\(task) not deterministic")
            #expect(a.input != c.input || a.outputs != c.outputs, "\(task) ignores the seed")
        }
    }

    @Test func everyTaskFillsTheLengthExactly() throws {
        for task in EvalSuite.ruler.tasks + EvalSuite.babilong.tasks {
            for length in [2048, 5000, 16384] {
                let sample = try builtInGenerator.sample(task, length: length, index: 0, seed: 1)
                #expect(
                    promptTokenCount(sample) + sample.tokensToGenerate == length,
                    "\(task) at \(length)")
                #expect(sample.length == length)
                #expect(!sample.outputs.isEmpty)
                #expect(sample.input.utf8.allSatisfy { $0 < 128 }, "\(task) is not ASCII")
            }
        }
    }

    @Test func tooShortLengthIsAClearError() {
        #expect(throws: EvalError.self) {
            try builtInGenerator.sample(.ruler(.niahSingle1), length: 100, index: 0, seed: 1)
        }
    }

    @Test func needlesSitAtTheRequestedDepth() throws {
        let tokenizer = ByteTokenizer()
        for task in [RulerTask.niahSingle1, .niahSingle2, .niahMultikey2] {
            for depth in [0.0, 25, 50, 75, 100] {
                let sample = try builtInGenerator.sample(
                    .ruler(task), length: 8192, index: 1, seed: 3, depth: depth)
                #expect(sample.depth == depth)
                // The queried needle's value: positions point at the values.
                let prompt = [tokenizer.bos] + tokenizer.encode(sample.promptText)
                let positions = sample.needlePositions
                let hit = positions.first { position in
                    let before = tokenizer.decode(Array(prompt[max(0, position - 100)..<position]))
                    let after = tokenizer.decode(
                        Array(prompt[position..<min(prompt.count, position + 20)]))
                    return before.contains("One of the special magic") && before.hasSuffix("is: ")
                        && after.hasPrefix("\(sample.outputs[0]).")
                }
                let position = try #require(hit, "\(task) depth \(depth): needle not found")
                // Depth relative to the context span (between the template's prefix and suffix).
                let contextStart =
                    1
                    + (sample.input.range(of: "afterwards.\n").map {
                        sample.input.utf8.distance(from: sample.input.startIndex, to: $0.upperBound)
                    } ?? 0)
                let contextEnd =
                    1
                    + (sample.input.range(of: "\nWhat ", options: .backwards).map {
                        sample.input.utf8.distance(from: sample.input.startIndex, to: $0.lowerBound)
                    } ?? 0)
                let relative = Double(position - contextStart) / Double(contextEnd - contextStart)
                // Within one sentence (or distractor needle) of the requested depth.
                #expect(abs(relative * 100 - depth) < 3, "\(task) depth \(depth): \(relative)")
            }
        }
    }

    @Test func niahTemplatesFollowRuler() throws {
        let single = try builtInGenerator.sample(
            .ruler(.niahSingle1), length: 4096, index: 0, seed: 2)
        #expect(
            single.input.hasPrefix("A special magic number is hidden within the following text."))
        #expect(single.answerPrefix.hasSuffix("mentioned in the provided text is"))
        #expect(single.input.contains("The grass is green. The sky is blue."))
        let multi = try builtInGenerator.sample(
            .ruler(.niahMultiquery), length: 4096, index: 0, seed: 2)
        #expect(multi.input.hasPrefix("Some special magic numbers are hidden"))
        #expect(multi.outputs.count == 4)
        #expect(multi.needlePositions.count == 4)
        let values = try builtInGenerator.sample(
            .ruler(.niahMultivalue), length: 4096, index: 0, seed: 2)
        #expect(values.outputs.count == 4)
        let uuid = try builtInGenerator.sample(
            .ruler(.niahSingle3), length: 4096, index: 0, seed: 2)
        #expect(uuid.outputs[0].count == 36)
        #expect(Array(uuid.outputs[0])[14] == "4")
        for sample in [single, multi, values, uuid] {
            #expect(sample.outputs.allSatisfy { sample.input.contains("is: \($0).") })
        }
    }

    /// Needle positions point at the answers' values, distractor positions at the other keys'.
    @Test func answerNeedlesAndDistractorsAreSeparated() throws {
        let tokenizer = ByteTokenizer()
        for (task, answers, distractors) in [
            (RulerTask.niahMultikey1, 1, 3), (.niahMultivalue, 4, 0), (.niahSingle2, 1, 0),
        ] {
            let sample = try builtInGenerator.sample(
                .ruler(task), length: 4096, index: 0, seed: 4)
            #expect(sample.needlePositions.count == answers, "\(task)")
            #expect(sample.distractorPositions.count == distractors, "\(task)")
            let prompt = [tokenizer.bos] + tokenizer.encode(sample.promptText)
            func value(at position: Int) -> String {
                let text = tokenizer.decode(Array(prompt[position..<(position + 40)]))
                return String(text.prefix { $0 != "." })
            }
            #expect(Set(sample.needlePositions.map(value)) == Set(sample.outputs), "\(task)")
            for position in sample.distractorPositions {
                #expect(!sample.outputs.contains(value(at: position)), "\(task)")
            }
        }
    }

    @Test func variableTrackingChainIsInOrderAndComplete() throws {
        let sample = try builtInGenerator.sample(.ruler(.vt), length: 4096, index: 0, seed: 5)
        #expect(sample.outputs.count == 5)
        let positions = sample.needlePositions
        #expect(positions == positions.sorted())
        let first = try #require(sample.input.range(of: "VAR \(sample.outputs[0]) = "))
        let digits = sample.input[first.upperBound...].prefix(5)
        #expect(digits.allSatisfy { $0.isNumber })
        for (a, b) in zip(sample.outputs, sample.outputs.dropFirst()) {
            #expect(sample.input.contains("VAR \(b) = VAR \(a) "))
        }
    }

    @Test func commonAndFrequentWordsAreTheMostFrequent() throws {
        for task in [RulerTask.cwe, .fwe] {
            for length in [2048, 16384] {
                let sample = try builtInGenerator.sample(
                    .ruler(task), length: length, index: 0, seed: 9)
                // Count words in the final list (after the last template prefix).
                let marker = task == .cwe ? "most often.\n" : "coded words. "
                let body = try #require(sample.input.range(of: marker, options: .backwards))
                let text = sample.input[body.upperBound...].components(separatedBy: "\nQuestion")[0]
                var counts: [String: Int] = [:]
                for word in text.split(separator: " ") where !word.hasSuffix(".") || word == "..." {
                    counts[String(word), default: 0] += 1
                }
                counts["..."] = nil
                let ranked = counts.sorted { $0.value > $1.value }
                let k = sample.outputs.count
                #expect(
                    Set(ranked.prefix(k).map(\.key)) == Set(sample.outputs), "\(task) \(length)")
                #expect(ranked[k - 1].value > ranked[k].value, "\(task) \(length): tie")
            }
        }
    }

    @Test func trainingAndEvaluationValuesAreDisjoint() throws {
        let training = TaskGenerator(sources: .builtIn, space: .training)
        for index in 0..<5 {
            let eval = try builtInGenerator.sample(
                .ruler(.niahSingle1), length: 2048, index: index, seed: 1)
            let train = try training.sample(
                .ruler(.niahSingle1), length: 2048, index: index, seed: 1)
            let evalValue = try #require(UInt64(eval.outputs[0]))
            let trainValue = try #require(UInt64(train.outputs[0]))
            #expect(ValueSpace.of(bits: evalValue) == .evaluation)
            #expect(ValueSpace.of(bits: trainValue) == .training)
            let evalKey = try #require(eval.input.range(of: "for ", options: .backwards))
            let trainKey = try #require(train.input.range(of: "for ", options: .backwards))
            #expect(eval.input[evalKey.upperBound...] != train.input[trainKey.upperBound...])
        }
        let nouns = EvalTextSources.builtIn.nouns
        #expect(
            Set(ValueSpace.evaluation.half(of: nouns)).isDisjoint(
                with: ValueSpace.training.half(of: nouns)))
    }

    /// A range split would give each space its own leading digits; the hash split must not.
    @Test func bothValueSpacesHaveTheSameDigitsInEveryPlace() {
        for space in ValueSpace.allCases {
            var rng = SplitMix64(seed: 7)
            var leading = [Character: Int]()
            for _ in 0..<4000 {
                let value = space.integer(in: 1_000_000...9_999_999, rng: &rng)
                #expect(ValueSpace.of(bits: UInt64(value)) == space)
                leading[String(value).first!, default: 0] += 1
            }
            #expect(leading.count == 9, "\(space)")
            // uniform: 4000 / 9 = 444 per digit
            #expect(leading.values.allSatisfy { (344...544).contains($0) }, "\(space) \(leading)")
            let sampler = NeedleValueSampler(sources: .builtIn, space: space)
            let firstHex = Set((0..<200).map { _ in sampler.uuid(rng: &rng).first! })
            #expect(firstHex.count == 16, "\(space): \(firstHex.sorted())")
        }
    }

    @Test func lengthsParseAndFormat() throws {
        #expect(try ContextLength.parse("4K") == 4096)
        #expect(try ContextLength.parse("1m") == 1_048_576)
        #expect(try ContextLength.parse("32M") == 33_554_432)
        #expect(try ContextLength.parse("1000") == 1000)
        #expect(try ContextLength.parseList("4K,16K") == [4096, 16384])
        #expect(ContextLength.format(65536) == "64K")
        #expect(ContextLength.format(1000) == "1000")
        for bad in ["", "K", "-4K", "4X", "1.5K"] {
            #expect(throws: EvalError.self) { try ContextLength.parse(bad) }
        }
    }
}
