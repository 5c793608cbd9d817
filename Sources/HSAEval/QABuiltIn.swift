import Foundation

extension QADataset {
    /// A tiny hand-written set in the shape of `kind` (tests and smoke runs; no download):
    /// SQuAD-like, 2 articles of 2 paragraphs with one question each; HotpotQA-like, 2 questions
    /// with 2 gold paragraphs and 1 own distractor each.
    public static func builtIn(_ kind: QADatasetKind) -> QADataset {
        let paragraphs = BuiltInQA.paragraphs.map { Array($0.utf8) }
        switch kind {
        case .squad:
            return QADataset(
                documents: paragraphs,
                questions: [
                    QAQuestion(
                        query: "What color is the lighthouse of Port Alder?",
                        outputs: ["red and white", "red"], gold: [0], related: [1]),
                    QAQuestion(
                        query: "How many bridges cross the Varn river?",
                        outputs: ["seven", "7"], gold: [2], related: [3]),
                    QAQuestion(
                        query: "Who founded the observatory on Mount Keel?",
                        outputs: ["Ilse Marrow"], gold: [3], related: [2]),
                ])
        case .hotpotqa:
            let titled = zip(BuiltInQA.titles, paragraphs).map { title, text in
                Array(title.utf8) + Array("\n".utf8) + text
            }
            return QADataset(
                documents: titled,
                questions: [
                    QAQuestion(
                        query: "In which town was the founder of the Mount Keel observatory "
                            + "born?",
                        outputs: ["Port Alder"], gold: [3, 0], related: [4]),
                    QAQuestion(
                        query: "Which river flows past the town whose ferry is painted green?",
                        outputs: ["Varn"], gold: [1, 2], related: [4]),
                ])
        }
    }
}

/// Texts of ``QADataset/builtIn(_:)``, written for this project.
enum BuiltInQA {
    static let titles = ["Port Alder", "Alder ferry", "Varn", "Mount Keel", "Salt marsh"]
    static let paragraphs = [
        "Port Alder is a fishing town on the northern coast. Its lighthouse, painted red and "
            + "white, was built in 1871 and still guides boats past the rocks. The astronomer "
            + "Ilse Marrow was born in Port Alder.",
        "The ferry that links Port Alder with the islands is painted green. It sails twice a "
            + "day in summer and once a day in winter, and it carries cars, bicycles and mail.",
        "The Varn river rises in the hills and reaches the sea near the ferry harbour. Seven "
            + "bridges cross the Varn, the oldest of them made of stone.",
        "The observatory on Mount Keel was founded by Ilse Marrow in 1902. Its telescope was "
            + "carried up the mountain in pieces by mules over one summer.",
        "The salt marsh south of the town floods at every spring tide. Herons, curlews and "
            + "geese feed there, and a wooden path lets visitors walk across it.",
    ]
}
