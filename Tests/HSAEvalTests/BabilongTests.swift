import Foundation
import HSA
import Testing

/// An independent reader of bAbI stories: parses each fact and answers the question from the
/// resulting state, to check the generator's answers.
private struct StoryReader {
    var actorPlace: [String: String] = [:]
    var holder: [String: String] = [:]
    var objectPlace: [String: String] = [:]
    var trace: [String: [String]] = [:]
    var gives: [(String, String, String)] = []
    var relations: [(String, String, String)] = []

    func place(of object: String) -> String? {
        holder[object].flatMap { actorPlace[$0] } ?? objectPlace[object]
    }

    mutating func note(_ object: String) {
        if let p = place(of: object), trace[object, default: []].last != p {
            trace[object, default: []].append(p)
        }
    }

    mutating func read(_ fact: String) {
        let words = fact.dropLast().split(separator: " ").map(String.init)
        if words[0] == "The" {  // The A is D of the B.
            relations.append((words[1], words[3], words[6]))
            return
        }
        let actor = words[0]
        let last = words[words.count - 1]
        if words.contains("to"), words[1] != "gave", words[1] != "handed", words[1] != "passed" {
            actorPlace[actor] = last
            for object in holder.filter({ $0.value == actor }).keys { note(object) }
        } else if last == "there" {
            let object = words[words.count - 2]
            holder[object] = actor
            objectPlace[object] = nil
            note(object)
        } else if ["gave", "handed", "passed"].contains(words[1]) {
            holder[words[3]] = last
            gives.append((actor, words[3], last))
        } else {
            holder[last] = nil
            objectPlace[last] = actorPlace[actor]
        }
    }

    func answer(_ question: String) -> Set<String> {
        let q = question.dropLast().split(separator: " ").map(String.init)
        let opposite = ["north": "south", "south": "north", "east": "west", "west": "east"]
        let all = relations + relations.map { ($0.2, opposite[$0.1] ?? "", $0.0) }
        switch (q[0], q[1]) {
        case ("Where", "is") where q[2] == "the": return Set([place(of: q[3])].compactMap { $0 })
        case ("Where", "is"): return Set([actorPlace[q[2]]].compactMap { $0 })
        case ("Where", "was"):
            let t = trace[q[3]] ?? []
            return t.count >= 2 && t.last == q[6] ? [t[t.count - 2]] : []
        case ("What", "is") where q[2] == "the":
            return Set(all.filter { $0.0 == q[3] && $0.1 == q[4] }.map(\.2))
        case ("What", "is"): return Set(all.filter { $0.1 == q[2] && $0.2 == q[5] }.map(\.0))
        case ("What", "did"): return Set(gives.filter { $0.0 == q[2] && $0.2 == q[5] }.map(\.1))
        case ("Who", "gave") where q.count == 6:
            return Set(gives.filter { $0.1 == q[3] && $0.2 == q[5] }.map(\.0))
        case ("Who", "gave"): return Set(gives.filter { $0.1 == q[3] }.map(\.0))
        case ("Who", "did"): return Set(gives.filter { $0.0 == q[2] && $0.1 == q[5] }.map(\.2))
        case ("Who", "received"): return Set(gives.filter { $0.1 == q[3] }.map(\.2))
        default: return []
        }
    }
}

@Suite struct BabilongTests {
    @Test func storiesAnswerTheirQuestions() {
        for task in BabilongTask.allCases {
            var rng = SplitMix64(seed: 11)
            for _ in 0..<40 {
                let story = BabiWorld.story(task, rng: &rng)
                var reader = StoryReader()
                for fact in story.facts { reader.read(fact) }
                #expect(reader.answer(story.question) == [story.answer], "\(task): \(story)")
                #expect(task.labels.contains(story.answer))
            }
        }
    }

    @Test func factsAreSpreadInOrderThroughTheBookAtTheRecordedPositions() throws {
        let tokenizer = ByteTokenizer()
        for task in BabilongTask.allCases {
            let sample = try builtInGenerator.sample(
                .babilong(task), length: 6000, index: 2, seed: 4)
            let prompt = [tokenizer.bos] + tokenizer.encode(sample.promptText)
            var reader = StoryReader()
            for position in sample.needlePositions {
                let tail = tokenizer.decode(Array(prompt[position..<(position + 80)]))
                let fact = try #require(tail.split(separator: ".").first) + "."
                reader.read(String(fact))
            }
            let question = try #require(sample.question)
            #expect(sample.input.hasSuffix("Question: " + question))
            #expect(reader.answer(question) == Set(sample.outputs), "\(task)")
            #expect(sample.needlePositions == sample.needlePositions.sorted())
            #expect(sample.input.contains("<context>\n") && sample.input.contains("\n</context>\n"))
        }
    }
}
