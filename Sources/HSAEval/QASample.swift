import Foundation
import HSACore

// RULER's QA tasks (scripts/data/synthetic/qa.py): a question's gold paragraph(s) among
// distractor paragraphs, each as "Document i:\n<paragraph>", joined by blank lines, in random
// order, inside RULER's QA template with the answer prefix " Answer:".

extension TaskGenerator {
    // MARK: - QA

    /// Sample `index` asks question `index % count` (RULER takes questions in order). The
    /// context holds the gold paragraphs, then as many related paragraphs (SQuAD: the same
    /// article; HotpotQA: the question's own distractors) and random other paragraphs as fit
    /// whole; the rest of the budget is one more paragraph cut at a word and padded with spaces
    /// (or spaces alone when not even its header fits), so the length is exact.
    func qaSample(
        _ task: RulerTask, _ kind: QADatasetKind, length: Int, index: Int,
        rng: inout SplitMix64
    ) throws -> EvalSample {
        guard let dataset = qaDatasets[kind], !dataset.questions.isEmpty else {
            throw EvalError.missingQAData(task: task.rawValue, path: "data/" + kind.relativePath)
        }
        let question = dataset.questions[index % dataset.questions.count]
        let filled = RulerTemplates.fill(RulerTemplates.qa, ["query": question.query])
        let parts = RulerTemplates.split(filled)
        let assembly = SampleAssembly(
            prefix: parts.prefix, suffix: parts.suffix, answerPrefix: RulerTemplates.qaAnswer,
            tokensToGenerate: task.tokensToGenerate)
        let budget = try assembly.contextBudget(length: length, task: task.rawValue)
        let docs = dataset.documents

        // Whole paragraphs: gold first (required), then related, then random others.
        var chosen = question.gold
        var used = contextBytes(chosen.map { docs[$0].count })
        guard used <= budget else {
            throw EvalError.lengthTooShort(
                task: task.rawValue, length: length, minimum: length - budget + used)
        }
        var taken = Set(chosen)
        var candidates = sampleWithoutReplacement(
            question.related.filter { !taken.contains($0) }, count: question.related.count,
            rng: &rng)
        var partial: Int?
        var attempts = 0
        while partial == nil {
            if candidates.isEmpty {
                // Random paragraphs of other questions; give up when the set runs dry.
                guard taken.count < docs.count, attempts < 4 * docs.count + 64 else { break }
                attempts += 1
                let pick = Int.random(in: 0..<docs.count, using: &rng)
                if taken.contains(pick) { continue }
                candidates.append(pick)
            }
            let next = candidates.removeFirst()
            taken.insert(next)
            let grown = used + 2 + Self.documentHeader(chosen.count + 1).count + docs[next].count
            if grown <= budget {
                chosen.append(next)
                used = grown
            } else {
                partial = next
            }
        }

        // Random order (RULER shuffles); the cut paragraph takes a random place too.
        var pieces = sampleWithoutReplacement(chosen, count: chosen.count, rng: &rng)
            .map { (document: $0, text: docs[$0]) }
        var padding = budget - used
        let header = Self.documentHeader(pieces.count + 1).count + 2  // + the blank line
        if let partial, padding > header {
            let text = ContextBuilder.truncatedPiece(docs[partial], to: padding - header)
            let slot = Int.random(in: 0...pieces.count, using: &rng)
            pieces.insert((partial, text), at: slot)
            padding = 0
        }
        var context: [UInt8] = []
        context.reserveCapacity(budget)
        var offsets: [Int] = []
        for (i, piece) in pieces.enumerated() {
            if i > 0 { context += Array("\n\n".utf8) }
            context += Self.documentHeader(i + 1)
            if question.gold.contains(piece.document) {
                offsets.append(context.count + Self.answerOffset(question.outputs, in: piece.text))
            }
            context += piece.text
        }
        context += [UInt8](repeating: UInt8(ascii: " "), count: padding)
        let (input, positions) = assembly.input(context: context, offsets: offsets)
        return EvalSample(
            index: 0, input: input, outputs: question.outputs, length: length,
            answerPrefix: assembly.answerPrefix, task: task.rawValue, suite: "ruler",
            needlePositions: positions, tokensToGenerate: task.tokensToGenerate,
            metric: task.metric)
    }

    /// "Document i:\n".
    static func documentHeader(_ number: Int) -> [UInt8] {
        Array(RulerTemplates.fill(RulerTemplates.qaDocument, ["i": String(number)]).utf8)
    }

    /// Bytes of paragraphs of these sizes with headers numbered 1...n and blank lines between
    /// them (the total does not depend on their order).
    func contextBytes(_ sizes: [Int]) -> Int {
        var total = 2 * max(sizes.count - 1, 0)
        for (i, size) in sizes.enumerated() {
            total += size + Self.documentHeader(i + 1).count
        }
        return total
    }

    /// Offset in `paragraph` of the first reference found in it, case-insensitive (the
    /// "needle" whose chunk the retrieval diagnostics look for), else 0 (the paragraph start).
    static func answerOffset(_ outputs: [String], in text: [UInt8]) -> Int {
        let paragraph = Array(String(decoding: text, as: UTF8.self).lowercased().utf8)
        for output in outputs {
            let needle = Array(output.lowercased().utf8)
            guard !needle.isEmpty, needle.count <= paragraph.count else { continue }
            for start in 0...(paragraph.count - needle.count)
            where paragraph[start] == needle[0]
                && Array(paragraph[start..<(start + needle.count)])
                    == needle
            {
                return start
            }
        }
        return 0
    }
}
