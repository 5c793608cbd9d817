import HSA
import Testing

// The copy suite's samples: exact length, the letters as the only answer, a clear error below
// the minimum length.
struct CopyTaskTests {
    @Test(arguments: [CopyTask.minimumLength, 1000, 65_536])
    func sampleHasTheRequestedLengthAndTheLettersAsAnswer(length: Int) throws {
        let sample = try builtInGenerator.sample(
            .copy(.copyLine), length: length, index: 3, seed: 9)
        #expect(promptTokenCount(sample) + sample.tokensToGenerate == length)
        let letters = try #require(sample.outputs.first)
        #expect(letters.count == CopyTask.letterCount)
        #expect(letters.allSatisfy { $0.isLowercase })
        #expect(sample.input.hasPrefix(letters + "|"))
        #expect(sample.input.hasSuffix("|"))
        // The filler never contains a lowercase letter, so only the line's start matches.
        #expect(sample.input.dropFirst(CopyTask.letterCount).allSatisfy { !$0.isLowercase })
        #expect(sample.suite == "copy")
    }

    @Test func tooShortALengthIsRejected() {
        #expect(throws: EvalError.self) {
            _ = try builtInGenerator.sample(
                .copy(.copyLine), length: CopyTask.minimumLength - 1, index: 0, seed: 0)
        }
    }

    @Test func suiteNamesTheTask() throws {
        #expect(try EvalSuite.copy.tasks(named: "all") == [.copy(.copyLine)])
        #expect(try EvalSuite.copy.tasks(named: "copy_line").map(\.name) == ["copy_line"])
    }
}
