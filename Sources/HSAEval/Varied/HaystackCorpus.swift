import Foundation
import HSACore

/// Documents of a text corpus, split into ASCII sentences, to hide facts in: the haystacks of
/// the varied training tasks. Give it training text only (never the held-out documents or the
/// evaluation essays).
public struct HaystackCorpus: Sendable {
    /// Sentences of each document (ASCII bytes, as ``EvalTextSources/sentences(of:)``).
    public var documents: [[[UInt8]]]

    /// Creates a corpus from texts (tests, or text already in memory).
    public init(texts: [String]) {
        documents = texts.map(EvalTextSources.sentences(of:)).filter { !$0.isEmpty }
    }

    /// Reads `*.txt` files under `directory` (recursively, sorted by path) until about
    /// `maxBytes` of text. Files are taken in a seeded shuffled order so a budget smaller than
    /// the corpus still samples every source.
    public static func load(directory: URL, maxBytes: Int, seed: UInt64 = 0) throws
        -> HaystackCorpus
    {
        let keys: [URLResourceKey] = [.isRegularFileKey]
        guard
            let walker = FileManager.default.enumerator(
                at: directory, includingPropertiesForKeys: keys,
                options: [.skipsHiddenFiles])
        else { throw EvalError.cannotRead(path: directory.path, reason: "not a directory") }
        var files: [URL] = []
        for case let url as URL in walker where url.pathExtension == "txt" {
            files.append(url)
        }
        files.sort { $0.path < $1.path }
        guard !files.isEmpty else {
            throw EvalError.cannotRead(path: directory.path, reason: "no .txt files")
        }
        var rng = SplitMix64(seed: seed)
        files = sampleWithoutReplacement(files, count: files.count, rng: &rng)
        var texts: [String] = []
        var bytes = 0
        for file in files where bytes < maxBytes {
            guard let data = try? Data(contentsOf: file) else { continue }
            // A huge file contributes a slice, so one dictionary cannot fill the budget.
            let slice = data.prefix(max(maxBytes / 8, 1 << 16))
            texts.append(String(decoding: slice, as: UTF8.self))
            bytes += slice.count
        }
        return HaystackCorpus(texts: texts)
    }

    /// Consecutive sentences of about `bytes` bytes (joiner included), starting at a random
    /// sentence of a random document and running on into further random documents.
    public func sentences(bytes: Int, rng: inout SplitMix64) -> [[UInt8]] {
        guard !documents.isEmpty else { return [Array("...".utf8)] }
        var result: [[UInt8]] = []
        var total = 0
        while total < bytes {
            let document = pick(documents, &rng)
            var index = Int.random(in: 0..<document.count, using: &rng)
            while total < bytes, index < document.count {
                result.append(document[index])
                total += document[index].count + 1
                index += 1
            }
        }
        return result
    }
}

/// Filler that carries no facts: sentences repeated (the training counterpart of RULER's
/// "noise" haystack; RULER's own noise sentence is kept for evaluation) and word lists.
enum TrainingNoise {
    static let lines = [
        "The river bends to the east. The hills are quiet. A bird sings. Time goes on.",
        "Rain falls on the town. The lamps are lit. Nothing happens here. Onward we go.",
        "This line is filler text. It carries no information. Keep reading.",
        "Waves roll in. Waves roll out. The tide keeps its time.",
        "Day follows night and night follows day. The clock ticks on the wall.",
        "A cart rolls down the road. The dust settles. Another cart follows.",
    ]

    /// 6-12 random words of `words`, one line.
    static func wordLine(_ words: [String], rng: inout SplitMix64) -> [UInt8] {
        let count = Int.random(in: 6...12, using: &rng)
        return Array((0..<count).map { _ in pick(words, &rng) }.joined(separator: " ").utf8)
    }
}
