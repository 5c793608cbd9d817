import Foundation
import HSA
import HSATestSupport
import Testing

@Suite struct QATests {
    let generator = TaskGenerator(
        sources: .builtIn,
        qaDatasets: [.squad: .builtIn(.squad), .hotpotqa: .builtIn(.hotpotqa)])

    @Test func qaSamplesHaveExactLengthGoldParagraphsAndRulerTemplate() throws {
        for task in [RulerTask.qa1, .qa2] {
            let kind = try #require(task.qaDataset)
            let dataset = QADataset.builtIn(kind)
            // 900 holds only some paragraphs (one cut); 3000 holds all of them plus padding.
            for length in [900, 3000] {
                for index in 0..<3 {
                    let sample = try generator.sample(
                        .ruler(task), length: length, index: index, seed: 4)
                    #expect(promptTokenCount(sample) + sample.tokensToGenerate == length)
                    let question = dataset.questions[index % dataset.questions.count]
                    #expect(sample.outputs == question.outputs)
                    #expect(sample.metric == .stringMatchPart)
                    #expect(sample.answerPrefix == " Answer:")
                    #expect(sample.input.hasPrefix("Answer the question based on the given"))
                    #expect(sample.input.hasSuffix("\n\nQuestion: " + question.query))
                    #expect(sample.input.contains("Document 1:\n"))
                    for gold in question.gold {
                        let text = String(decoding: dataset.documents[gold], as: UTF8.self)
                        #expect(sample.input.contains(text))
                    }
                    // One needle per gold paragraph, at its first reference, if it has one.
                    #expect(sample.needlePositions.count == question.gold.count)
                    let bytes = Array(sample.promptText.lowercased().utf8)
                    let first = Array(question.outputs[0].lowercased().utf8)
                    let hits = sample.needlePositions.filter { position in
                        let start = position - 1  // BOS is token 0
                        return start + first.count <= bytes.count
                            && Array(bytes[start..<(start + first.count)]) == first
                    }
                    // Every built-in question has its answer in exactly one gold paragraph.
                    #expect(hits.count == 1)
                }
            }
        }
    }

    @Test func qaIsDeterministicAndTooShortOrMissingDataFailsClearly() throws {
        let a = try generator.sample(.ruler(.qa1), length: 900, index: 1, seed: 7)
        let b = try generator.sample(.ruler(.qa1), length: 900, index: 1, seed: 7)
        #expect(a == b)
        #expect(throws: EvalError.self) {
            try generator.sample(.ruler(.qa2), length: 400, index: 0, seed: 0)
        }
        do {
            _ = try builtInGenerator.sample(.ruler(.qa1), length: 2000, index: 0, seed: 0)
            Issue.record("expected missingQAData")
        } catch let error as EvalError {
            #expect("\(error)".contains("squad.json"))
            #expect("\(error)".contains("install_eval_data.sh"))
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(
            throws: EvalError.missingQAData(
                task: "qa_2", path: directory.file("eval/hotpotqa.json").path)
        ) {
            try QADataset.load(.hotpotqa, dataDirectory: directory.url)
        }
    }

    @Test func readersFollowRulerSquadAndHotpotFormats() throws {
        let squad = """
            {"data": [{"title": "T", "paragraphs": [
              {"context": "Alpha text.", "qas": [
                {"question": "Q1?", "answers": [{"text": "Alpha"}, {"text": "Alpha"}],
                 "is_impossible": false},
                {"question": "Q2?", "answers": [], "is_impossible": true}]},
              {"context": "Beta text.", "qas": [
                {"question": "Q3?", "answers": [{"text": "Beta"}], "is_impossible": false}]}
            ]}]}
            """
        let s = try QADataset.squad(json: Data(squad.utf8))
        #expect(s.documents.count == 2)
        #expect(s.questions.map(\.query) == ["Q1?", "Q3?"])
        #expect(s.questions[0].outputs == ["Alpha"])
        #expect(s.questions[0].gold == [0] && s.questions[0].related == [1])
        let hotpot = """
            [{"question": "Who?", "answer": "Ann",
              "context": [["A", ["Ann is ", "here."]], ["B", ["Bob."]], ["C", ["Cy."]]],
              "supporting_facts": [["A", 0], ["C", 0]]}]
            """
        let h = try QADataset.hotpotQA(json: Data(hotpot.utf8))
        #expect(h.documents.first == Array("A\nAnn is here.".utf8))
        #expect(h.questions[0].gold == [0, 2] && h.questions[0].related == [1])
    }

    @Test func allMeansSyntheticTasksAndQATasksCanBeNamed() throws {
        let all = try EvalSuite.ruler.tasks(named: "all")
        #expect(all.count == 11)
        let more = try EvalSuite.ruler.tasks(named: "all,qa_1,qa_2,vt")
        #expect(more.count == 13)
        #expect(more.suffix(2) == [.ruler(.qa1), .ruler(.qa2)])
    }
}
