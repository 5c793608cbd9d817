import Foundation
import HSA
import Testing

@Suite struct ScoringTests {
    @Test func stringMatchAllCountsFoundReferences() {
        #expect(
            Scoring.stringMatchAll(prediction: "1234 and 5678", references: ["1234", "5678"]) == 1)
        #expect(
            Scoring.stringMatchAll(prediction: "only 1234", references: ["1234", "5678"]) == 0.5)
        #expect(Scoring.stringMatchAll(prediction: "FANCY-Otter", references: ["fancy-otter"]) == 1)
        #expect(Scoring.stringMatchAll(prediction: "", references: ["a"]) == 0)
        #expect(Scoring.stringMatchAll(prediction: "anything", references: []) == 0)
    }

    @Test func stringMatchPartTakesTheBestReference() {
        #expect(
            Scoring.stringMatchPart(prediction: "Paris.", references: ["London", "paris"]) == 1)
        #expect(Scoring.stringMatchPart(prediction: "Rome", references: ["London", "Paris"]) == 0)
    }

    @Test func babilongNeedsTheOnlyLabelOfTheFirstSentence() {
        let labels = BabilongTask.qa1.labels
        let question = "Where is Mary?"
        func score(_ text: String) -> Double {
            Scoring.babilongExact(
                prediction: text, target: "kitchen", question: question, labels: labels)
        }
        #expect(score(" The most recent location of Mary is kitchen.") == 1)
        #expect(score("KITCHEN") == 1)
        #expect(score(" kitchen or garden") == 0)  // two labels
        #expect(score(" garden. Then kitchen.") == 0)  // only the first sentence counts
        #expect(score(" bathroom") == 0)
        // A label named in the question is ignored in the answer.
        let qa3 = Scoring.babilongExact(
            prediction: "Before the kitchen the apple was in the garden", target: "garden",
            question: "Where was the apple before the kitchen?", labels: BabilongTask.qa3.labels)
        #expect(qa3 == 1)
    }

    @Test func samplesAreScoredWithTheirMetric() throws {
        let sample = try builtInGenerator.sample(.babilong(.qa1), length: 3000, index: 0, seed: 1)
        #expect(Scoring.score(" " + sample.outputs[0] + ".", for: sample) == 1)
        #expect(Scoring.score(" nowhere.", for: sample) == 0)
    }
}
