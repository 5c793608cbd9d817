import Foundation
import HSACore

/// BABILong's default prompts (booydar/babilong, babilong/prompts.py DEFAULT_PROMPTS), folded
/// to ASCII quotes; layout: instruction, examples, post prompt, `<context>`, question.
enum BabilongPrompts {
    static func instruction(_ task: BabilongTask) -> String {
        switch task {
        case .qa1:
            return "I will give you context with the facts about positions of different persons "
                + "hidden in some random text and a question. You need to answer the question "
                + "based only on the information from the facts. If a person was in different "
                + "locations, use the latest location to answer the question."
        case .qa2, .qa3:
            return "I give you context with the facts about locations and actions of different "
                + "persons hidden in some random text and a question. You need to answer the "
                + "question based only on the information from the facts.\nIf a person got an "
                + "item in the first location and travelled to the second location the item is "
                + "also in the second location. If a person dropped an item in the first "
                + "location and moved to the second location the item remains in the first "
                + "location."
        case .qa4:
            return "I will give you context with the facts about different people, their "
                + "location and actions, hidden in some random text and a question. You need to "
                + "answer the question based only on the information from the facts."
        case .qa5:
            return "I will give you context with the facts about locations and their relations "
                + "hidden in some random text and a question. You need to answer the question "
                + "based only on the information from the facts."
        }
    }

    static func examples(_ task: BabilongTask) -> String {
        switch task {
        case .qa1:
            return "<example>\nCharlie went to the hallway. Judith come back to the kitchen. "
                + "Charlie travelled to balcony. Where is Charlie?\nAnswer: The most recent "
                + "location of Charlie is balcony.\n</example>\n\n<example>\nAlan moved to the "
                + "garage. Charlie went to the beach. Alan went to the shop. Rouse travelled to "
                + "balcony. Where is Alan?\nAnswer: The most recent location of Alan is shop.\n"
                + "</example>"
        case .qa2:
            return "<example>\nCharlie went to the kitchen. Charlie got a bottle. Charlie moved "
                + "to the balcony. Where is the bottle?\nAnswer: The bottle is in the balcony.\n"
                + "</example>\n<example>\nAlan moved to the garage. Alan got a screw driver. "
                + "Alan moved to the kitchen. Where is the screw driver?\nAnswer: The screw "
                + "driver is in the kitchen.\n</example>"
        case .qa3:
            return "<example>\nJohn journeyed to the bedroom. Mary grabbed the apple. Mary went "
                + "back to the bathroom. Daniel journeyed to the bedroom. Daniel moved to the "
                + "garden. Mary travelled to the kitchen. Where was the apple before the "
                + "kitchen?\nAnswer: Before the kitchen the apple was in the bathroom.\n"
                + "</example>\n<example>\nJohn went back to the bedroom. John went back to the "
                + "garden. John went back to the kitchen. Sandra took the football. Sandra "
                + "travelled to the garden. Sandra journeyed to the bedroom. Where was the "
                + "football before the bedroom?\nAnswer: Before the bedroom the football was in "
                + "the garden.\n</example>"
        case .qa4:
            return "<example>\nThe hallway is south of the kitchen. The bedroom is north of the "
                + "kitchen. What is the kitchen south of?\nAnswer: bedroom\n</example>\n"
                + "<example>\nThe garden is west of the bedroom. The bedroom is west of the "
                + "kitchen. What is west of the bedroom?\nAnswer: garden\n</example>"
        case .qa5:
            return "<example>\nMary picked up the apple there. Mary gave the apple to Fred. Mary "
                + "moved to the bedroom. Bill took the milk there. Who did Mary give the apple "
                + "to?\nAnswer: Fred\n</example>\n<example>\nJeff took the football there. Jeff "
                + "passed the football to Fred. Jeff got the milk there. Bill travelled to the "
                + "bedroom. Who gave the football?\nAnswer: Jeff\n</example>\n<example>\nFred "
                + "picked up the apple there. Fred handed the apple to Bill. Bill journeyed to "
                + "the bedroom. Jeff went back to the garden. What did Fred give to Bill?\n"
                + "Answer: apple\n</example>"
        }
    }

    static func postPrompt(_ task: BabilongTask) -> String {
        switch task {
        case .qa1:
            return "Always return your answer in the following format: The most recent location "
                + "of 'person' is 'location'. Do not write anything else after that."
        case .qa2:
            return "Always return your answer in the following format: The 'item' is in "
                + "'location'. Do not write anything else after that."
        case .qa3:
            return "Always return your answer in the following format: Before the $location_1$ "
                + "the $item$ was in the $location_2$. Do not write anything else after that."
        case .qa4:
            return "Your answer should contain only one word - location. Do not write anything "
                + "else after that."
        case .qa5:
            return "Your answer should contain only one word. Do not write anything else after "
                + "that. Do not explain your answer."
        }
    }
}

extension TaskGenerator {
    /// A BABILong sample: a bAbI story whose facts are spread, in order, over book sentences
    /// starting at a random sentence, filling `length` exactly.
    func babilongSample(
        _ task: BabilongTask, length: Int, rng: inout SplitMix64
    ) throws -> EvalSample {
        let story = BabiWorld.story(task, rng: &rng)
        let prefix =
            BabilongPrompts.instruction(task) + "\n" + BabilongPrompts.examples(task) + "\n"
            + BabilongPrompts.postPrompt(task) + "\n<context>\n"
        let assembly = SampleAssembly(
            prefix: prefix, suffix: "\n</context>\nQuestion: " + story.question,
            answerPrefix: "\nAnswer:", tokensToGenerate: BabilongTask.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: task.rawValue)
        let depths = story.facts.map { _ in rng.nextUniform() }.sorted()
        let insertions = zip(story.facts, depths).map {
            ContextInsertion(text: Array($0.utf8), depth: $1)
        }
        let sentences = sources.bookSentences
        let start = sentences.isEmpty ? 0 : Int.random(in: 0..<sentences.count, using: &rng)
        let built = try ContextBuilder.build(
            budget: budget, filler: .sentences(sentences, start: start), joiner: Array(" ".utf8),
            insertions: insertions, rng: &rng,
            task: task.rawValue, overhead: length - budget)
        let (input, positions) = assembly.input(
            context: built.bytes, offsets: built.insertionOffsets)
        return EvalSample(
            index: 0, input: input, outputs: [story.answer], length: length,
            answerPrefix: assembly.answerPrefix, task: task.rawValue, suite: "babilong",
            needlePositions: positions, tokensToGenerate: BabilongTask.tokensToGenerate,
            metric: .babilongExact, question: story.question, labels: task.labels)
    }
}
