import HSACore

/// One way of stating a keyed fact and of asking for it. Slots: `{attr}` (what the value is,
/// "locker code"), `{key}` (whose it is), `{value}`; statements hold all three, questions and
/// answer prefixes `{attr}` and `{key}`.
public struct FactPhrasing: Sendable, Equatable {
    /// The fact sentence placed in the context.
    public var statement: String
    /// The question after the context.
    public var question: String
    /// The start of the answer (may be empty).
    public var answerPrefix: String
}

/// A bank of phrasings: attribute names, fact statements, questions, answer prefixes and
/// instructions. ``training`` feeds `hsa data tasks`; ``heldOut`` exists only for the `unseen`
/// evaluation suite. The two share no attribute name, statement, question or instruction
/// (tested), so a model that answers the held-out prompts has learned retrieval rather than a
/// wording.
public struct FactPhrasings: Sendable {
    /// What a value can be ("access code"), singular.
    public var attributes: [String]
    /// Fact statements, questions and answer prefixes, combined freely.
    public var statements: [String]
    /// Questions about one key.
    public var questions: [String]
    /// Answer prefixes (empty: the answer follows the question directly).
    public var answerPrefixes: [String]
    /// Optional first lines telling that facts are hidden in the text.
    public var instructions: [String]
    /// Questions and answer prefixes whose answer is several values (`{attrs}`: the plural
    /// attribute), so that a model meets "which ... are" as well as "what is". Empty: the
    /// singular ones serve.
    public var pluralQuestions: [String] = []
    public var pluralAnswerPrefixes: [String] = []

    /// A random combination of a statement, a question and an answer prefix; with `plural`,
    /// half of the time a plural question and answer prefix (when the bank has them).
    public func phrasing(plural: Bool = false, rng: inout SplitMix64) -> FactPhrasing {
        let statement = pick(statements, &rng)
        if plural, !pluralQuestions.isEmpty, rng.nextUniform() < 0.5 {
            return FactPhrasing(
                statement: statement, question: pick(pluralQuestions, &rng),
                answerPrefix: pick(pluralAnswerPrefixes, &rng))
        }
        return FactPhrasing(
            statement: statement, question: pick(questions, &rng),
            answerPrefix: pick(answerPrefixes, &rng))
    }

    /// `template` with `{attrs}` (`attr` + "s"), `{attr}`, `{key}` and `{value}` filled in.
    /// Keys and values keep their case wherever they stand, so the question names a key
    /// exactly as the fact does.
    public static func fill(_ template: String, attr: String, key: String, value: String = "")
        -> String
    {
        template.replacingOccurrences(of: "{attrs}", with: attr + "s")
            .replacingOccurrences(of: "{attr}", with: attr)
            .replacingOccurrences(of: "{key}", with: key)
            .replacingOccurrences(of: "{value}", with: value)
    }
}

/// A uniformly chosen element of a non-empty array.
func pick<T>(_ array: [T], _ rng: inout SplitMix64) -> T {
    array[Int.random(in: 0..<array.count, using: &rng)]
}

extension FactPhrasings {
    /// The phrasings the training generators use.
    public static let training = FactPhrasings(
        attributes: [
            "access code", "secret number", "account number", "reference number",
            "serial number", "ticket number", "room number", "order id", "tracking code",
            "password", "codeword", "magic number", "special magic number", "favorite word",
            "nickname", "badge number", "invoice number", "licence key", "safe combination",
            "station code", "key value", "lucky number", "project code", "member id",
        ],
        statements: [
            "The {attr} for {key} is {value}.",
            "The {attr} of {key} is {value}.",
            "{key}'s {attr} is {value}.",
            "Remember this: the {attr} of {key} is {value}.",
            "Note that {key} has the {attr} {value}.",
            "{value} is the {attr} assigned to {key}.",
            "For the record, {key} was given the {attr} {value}.",
            "Write it down: {key} uses {value} as its {attr}.",
            "Important: {key} - {attr}: {value}.",
            "[{key}] {attr} = {value}",
            "One of the special magic {attr}s for {key} is: {value}.",
            "Keep in mind that the {attr} belonging to {key} is {value}.",
            "It was decided that {key} gets {value} as the {attr}.",
            "{key} ({attr}): {value}",
            "The records show {value} as the {attr} of {key}.",
            "Please memorize: {attr} of {key} equals {value}.",
            "The {attr} {value} was issued to {key} last week.",
            "\"What is your {attr}?\" I asked {key}. \"{value},\" came the reply.",
            "In the ledger, the line for {key} reads: {attr} {value}.",
            "Attention, all: {value} is now the {attr} of {key}.",
            "According to the file, {key} holds the {attr} {value}.",
            "Memo - {key}: {attr} {value}.",
        ],
        questions: [
            "What is the {attr} for {key}?",
            "What is the {attr} of {key}?",
            "Which {attr} belongs to {key}?",
            "Tell me the {attr} of {key}.",
            "According to the text, what is {key}'s {attr}?",
            "Find the {attr} of {key} in the text above.",
            "Recall the {attr} that was given for {key}.",
            "What {attr} was assigned to {key}?",
            "Question: {attr} of {key}?",
            "Can you tell me the {attr} of {key}?",
            "I forgot the {attr} for {key}. What was it?",
            "Remind me: what was {key}'s {attr}?",
            "So, what {attr} does {key} have?",
            "{key}'s {attr}, please.",
            "What is the {attr} for {key} stated in the text above?",
            "Which {attr} does the document give for {key}?",
        ],
        answerPrefixes: [
            "", " Answer:", " The {attr} for {key} is", " The {attr} of {key} is",
            " {key}'s {attr} is", " It is", " Answer: the {attr} is", " That was",
            " The answer is",
            // Qualified prefixes: the value still follows after a longer run of words.
            " The {attr} for {key} stated in the text is",
            " The {attr} of {key} given in the document is",
            " The {attr} that the passage records for {key} is",
        ],
        instructions: [
            "Read the text below carefully; a question about it follows.",
            "Some facts are hidden in the following passage. Find them.",
            "Below is a long text with a few important notes in it.",
            "Memorize the key facts in this document. You will be asked about them.",
            "The following text contains the information needed to answer the question at the end.",
        ],
        pluralQuestions: [
            "Which {attrs} belong to {key}?",
            "List every {attr} of {key}.",
            "What {attrs} were assigned to {key}?",
            "Name all the {attrs} given for {key}.",
            "Give each {attr} that the text records for {key}.",
            "What are the {attrs} of {key}?",
            "Question: all {attrs} of {key}?",
            "What are the {attrs} of {key} listed in the text above?",
        ],
        pluralAnswerPrefixes: [
            "", " Answer:", " The {attrs} of {key} are", " The {attrs} for {key} are",
            " They are", " {key}'s {attrs} are", " The {attrs} of {key} listed in the text are",
            " The {attrs} that the document gives for {key} are",
        ])

    /// The phrasings of the `unseen` evaluation suite, never given to a training generator.
    public static let heldOut = FactPhrasings(
        attributes: [
            "locker combination", "boat's name", "meeting room", "parking spot", "vault code",
            "call sign", "cabinet number", "pin", "shelf mark", "gate number",
        ],
        statements: [
            "Somewhere in my notes I wrote that the {attr} used by {key} was {value}.",
            "Everyone agreed the {attr} chosen for {key} would be {value}.",
            "By the way, {key} told me their {attr}: it's {value}.",
            "If anyone asks, {value} serves as the {attr} for {key}.",
        ],
        questions: [
            "Which {attr} did {key} end up with?",
            "Do you recall what {key} uses as the {attr}?",
            "Quick check: the {attr} mentioned for {key}?",
        ],
        answerPrefixes: [" The {attr} used by {key} was", " Sure, it was", ""],
        instructions: [
            "I have hidden a detail somewhere in this story. Read it all, then answer.",
            "Here is a long passage. Pay attention to anything that looks like a record.",
        ])
}
