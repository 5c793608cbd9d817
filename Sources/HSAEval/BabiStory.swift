import Foundation
import HSACore

/// The BABILong tasks: bAbI qa1-qa5 facts hidden in book text.
public enum BabilongTask: String, CaseIterable, Codable, Sendable {
    /// Single supporting fact: "Where is Mary?"
    case qa1
    /// Two supporting facts: "Where is the football?"
    case qa2
    /// Three supporting facts: "Where was the football before the kitchen?"
    case qa3
    /// Two-argument relations: "What is north of the kitchen?"
    case qa4
    /// Three-argument relations: "What did Fred give to Bill?", "Who gave the apple to Jeff?"
    case qa5

    /// Answer-length limit in tokens (bytes): room for one short sentence.
    public static let tokensToGenerate = 64

    /// BABILong's label set of the task (babilong/metrics.py TASK_LABELS).
    public var labels: [String] {
        self == .qa5 ? BabiWorld.qa5Actors + BabiWorld.objects : BabiWorld.locations
    }

    /// Facts per story.
    var storyFacts: Int {
        switch self {
        case .qa1: return 10
        case .qa2: return 16
        case .qa3: return 20
        case .qa4: return 2
        case .qa5: return 16
        }
    }
}

/// A generated bAbI story: facts in order, a question and its single-word answer.
public struct BabiStory: Sendable, Equatable {
    /// Fact sentences ("Mary moved to the bathroom."), in story order.
    public var facts: [String]
    /// The question ("Where is Mary?").
    public var question: String
    /// The answer label ("bathroom").
    public var answer: String
}

/// bAbI's little world (Weston et al. 2015): actors, locations, objects and the phrasings of
/// moving, taking, dropping and giving. The simulation tracks where everyone and everything is,
/// so every question is answered from the story's state.
public enum BabiWorld {
    /// Actors of qa1-qa3.
    public static let actors = ["Mary", "John", "Daniel", "Sandra"]
    /// Actors of qa5.
    public static let qa5Actors = ["Bill", "Fred", "Jeff", "Mary"]
    /// Locations.
    public static let locations = ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"]
    /// Objects.
    public static let objects = ["apple", "football", "milk"]
    static let moveVerbs = ["moved to", "went to", "journeyed to", "travelled to", "went back to"]
    static let takeVerbs = ["picked up", "got", "grabbed", "took"]
    static let dropVerbs = ["dropped", "discarded", "put down", "left"]
    static let giveVerbs = ["gave", "handed", "passed"]
    static let directions = ["north", "south", "east", "west"]

    /// A story for `task` drawn from `rng`: regenerated until its question has one answer.
    /// `factCount` shortens event stories (qa1-qa3, qa5) from the task's usual length.
    public static func story(
        _ task: BabilongTask, factCount: Int? = nil, rng: inout SplitMix64
    ) -> BabiStory {
        while true {
            let story: BabiStory?
            switch task {
            case .qa4: story = relationStory(rng: &rng)
            default:
                story = eventStory(task, factCount: factCount ?? task.storyFacts, rng: &rng)
            }
            if let story { return story }
        }
    }

    // MARK: - qa1, qa2, qa3, qa5

    private struct State {
        var actorLocation: [String: String] = [:]
        var holder: [String: String] = [:]  // object -> actor
        var objectLocation: [String: String] = [:]  // objects lying somewhere
        var trace: [String: [String]] = [:]  // object -> locations it has been in
        var gives: [(giver: String, object: String, receiver: String)] = []

        func location(of object: String) -> String? {
            if let actor = holder[object] { return actorLocation[actor] }
            return objectLocation[object]
        }

        mutating func noteObject(_ object: String) {
            guard let place = location(of: object) else { return }
            if trace[object, default: []].last != place { trace[object, default: []].append(place) }
        }
    }

    private static func pick<T>(_ array: [T], _ rng: inout SplitMix64) -> T {
        array[Int.random(in: 0..<array.count, using: &rng)]
    }

    private static func eventStory(_ task: BabilongTask, factCount: Int, rng: inout SplitMix64)
        -> BabiStory?
    {
        let people = task == .qa5 ? qa5Actors : actors
        let usesObjects = task != .qa1
        var state = State()
        var facts: [String] = []
        while facts.count < factCount {
            let roll = rng.nextUniform()
            let actor = pick(people, &rng)
            let place = state.actorLocation[actor]
            let held = objects.filter { state.holder[$0] == actor }
            if usesObjects, roll < 0.3, let place {
                // Take an object lying here or never seen yet.
                let free = objects.filter {
                    state.holder[$0] == nil
                        && (state.objectLocation[$0] == nil || state.objectLocation[$0] == place)
                }
                guard !free.isEmpty else { continue }
                let object = pick(free, &rng)
                state.holder[object] = actor
                state.objectLocation[object] = nil
                state.noteObject(object)
                facts.append("\(actor) \(pick(takeVerbs, &rng)) the \(object) there.")
            } else if usesObjects, roll < 0.42, let object = held.first {
                state.holder[object] = nil
                state.objectLocation[object] = place
                facts.append("\(actor) \(pick(dropVerbs, &rng)) the \(object).")
            } else if task == .qa5, roll < 0.65, let object = held.first, let place {
                let others = people.filter { $0 != actor && state.actorLocation[$0] == place }
                guard let receiver = others.first else {
                    // Bring someone here so a give can follow.
                    let other = pick(people.filter { $0 != actor }, &rng)
                    if state.actorLocation[other] == place { continue }
                    state.actorLocation[other] = place
                    for object in objects where state.holder[object] == other {
                        state.noteObject(object)
                    }
                    facts.append("\(other) \(pick(moveVerbs, &rng)) the \(place).")
                    continue
                }
                state.holder[object] = receiver
                state.gives.append((actor, object, receiver))
                facts.append("\(actor) \(pick(giveVerbs, &rng)) the \(object) to \(receiver).")
            } else {
                let destinations = locations.filter { $0 != place }
                let destination = pick(destinations, &rng)
                state.actorLocation[actor] = destination
                for object in held { state.noteObject(object) }
                facts.append("\(actor) \(pick(moveVerbs, &rng)) the \(destination).")
            }
        }
        return question(task, state: state, facts: facts, rng: &rng)
    }

    private static func question(
        _ task: BabilongTask, state: State, facts: [String], rng: inout SplitMix64
    ) -> BabiStory? {
        switch task {
        case .qa1:
            let known = actors.filter { state.actorLocation[$0] != nil }
            guard !known.isEmpty else { return nil }
            let actor = pick(known, &rng)
            guard let place = state.actorLocation[actor] else { return nil }
            return BabiStory(facts: facts, question: "Where is \(actor)?", answer: place)
        case .qa2:
            // Only objects that were picked up: their place follows from two or more facts.
            let known = objects.filter { state.trace[$0] != nil && state.location(of: $0) != nil }
            guard !known.isEmpty else { return nil }
            let object = pick(known, &rng)
            guard let place = state.location(of: object) else { return nil }
            return BabiStory(facts: facts, question: "Where is the \(object)?", answer: place)
        case .qa3:
            let candidates = objects.filter { object in
                guard let trace = state.trace[object], trace.count >= 2, let last = trace.last
                else { return false }
                return !trace.dropLast().contains(last)  // "before the L" must be unambiguous
            }
            guard !candidates.isEmpty else { return nil }
            let object = pick(candidates, &rng)
            guard let trace = state.trace[object], let last = trace.last else { return nil }
            return BabiStory(
                facts: facts, question: "Where was the \(object) before the \(last)?",
                answer: trace[trace.count - 2])
        case .qa5:
            guard !state.gives.isEmpty else { return nil }
            let give = pick(state.gives, &rng)
            let gives = state.gives
            let forms: [(String, String, [String])] = [
                (
                    "What did \(give.giver) give to \(give.receiver)?", give.object,
                    gives.filter { $0.giver == give.giver && $0.receiver == give.receiver }
                        .map(\.object)
                ),
                (
                    "Who gave the \(give.object) to \(give.receiver)?", give.giver,
                    gives.filter { $0.object == give.object && $0.receiver == give.receiver }
                        .map(\.giver)
                ),
                (
                    "Who did \(give.giver) give the \(give.object) to?", give.receiver,
                    gives.filter { $0.giver == give.giver && $0.object == give.object }
                        .map(\.receiver)
                ),
                (
                    "Who gave the \(give.object)?", give.giver,
                    gives.filter { $0.object == give.object }.map(\.giver)
                ),
                (
                    "Who received the \(give.object)?", give.receiver,
                    gives.filter { $0.object == give.object }.map(\.receiver)
                ),
            ]
            // Keep forms whose answer is the same for every matching give.
            let unambiguous = forms.filter { Set($0.2).count == 1 }
            guard !unambiguous.isEmpty else { return nil }
            let form = pick(unambiguous, &rng)
            return BabiStory(facts: facts, question: form.0, answer: form.1)
        case .qa4:
            return nil
        }
    }

    // MARK: - qa4

    /// The direction opposite `direction`.
    public static func opposite(_ direction: String) -> String {
        switch direction {
        case "north": return "south"
        case "south": return "north"
        case "east": return "west"
        default: return "east"
        }
    }

    private static func relationStory(rng: inout SplitMix64) -> BabiStory? {
        let places = sampleWithoutReplacement(locations, count: 3, rng: &rng)
        let shared = places[1]
        // Two facts about the shared place: "The A is d1 of the B." and, in either order of
        // arguments, a second fact linking B and C.
        let first = (places[0], pick(directions, &rng), shared)
        let second =
            rng.nextUniform() < 0.5
            ? (places[2], pick(directions, &rng), shared)
            : (shared, pick(directions, &rng), places[2])
        let facts = [first, second]
        // Relations including the inverses the question may rely on.
        var relations: [(String, String, String)] = []
        for (a, d, b) in facts { relations += [(a, d, b), (b, opposite(d), a)] }
        let (a, d, b) = pick(facts, &rng)
        let askSubject = rng.nextUniform() < 0.5
        let question: String
        let answers: [String]
        if askSubject {
            question = "What is \(d) of the \(b)?"
            answers = relations.filter { $0.1 == d && $0.2 == b }.map(\.0)
        } else {
            question = "What is the \(a) \(d) of?"
            answers = relations.filter { $0.0 == a && $0.1 == d }.map(\.2)
        }
        guard Set(answers).count == 1, let answer = answers.first else { return nil }
        let text = facts.map { "The \($0.0) is \($0.1) of the \($0.2)." }
        return BabiStory(facts: text, question: question, answer: answer)
    }
}
