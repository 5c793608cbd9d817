import Foundation

/// The texts the generators draw from: the essay haystack (RULER), the distractor book
/// (BABILong) and the word lists for needle keys and values.
///
/// All text is folded to ASCII (so one character is one byte token and truncation never splits
/// a UTF-8 sequence) and split into sentences once, at load time.
public struct EvalTextSources: Sendable {
    /// Essay haystack sentences (RULER `type_haystack: essay`), ASCII bytes each.
    public var essaySentences: [[UInt8]]
    /// Where the essays came from ("paul_graham_essays", "persuasion" or "built-in").
    public var essaySource: String
    /// Distractor book sentences for BABILong, ASCII bytes each.
    public var bookSentences: [[UInt8]]
    /// Where the book came from ("persuasion" or "built-in").
    public var bookSource: String
    /// Nouns (RULER: wonderwords nounlist), sorted, unique.
    public var nouns: [String]
    /// Adjectives (wonderwords adjectivelist), sorted, unique.
    public var adjectives: [String]
    /// Verbs (wonderwords verblist), sorted, unique.
    public var verbs: [String]
    /// Where the words came from ("wonderwords" or "built-in").
    public var wordSource: String

    /// Creates sources from raw texts and word lists (text is folded and split here).
    public init(
        essayText: String, essaySource: String, bookText: String, bookSource: String,
        nouns: [String], adjectives: [String], verbs: [String], wordSource: String
    ) {
        essaySentences = Self.sentences(of: essayText)
        self.essaySource = essaySource
        bookSentences = Self.sentences(of: bookText)
        self.bookSource = bookSource
        self.nouns = Self.cleanWords(nouns)
        self.adjectives = Self.cleanWords(adjectives)
        self.verbs = Self.cleanWords(verbs)
        self.wordSource = wordSource
    }

    /// Small built-in texts and word lists: no files needed (tests, or no data installed).
    public static let builtIn = EvalTextSources(
        essayText: BuiltInText.essay, essaySource: "built-in", bookText: BuiltInText.book,
        bookSource: "built-in", nouns: BuiltInText.nouns, adjectives: BuiltInText.adjectives,
        verbs: BuiltInText.verbs, wordSource: "built-in")

    /// Loads what exists under `dataDirectory` (the repository's `data/`):
    /// `eval/paul_graham_essays.txt` (else `heldout/persuasion.txt`, else built-in) for essays,
    /// `heldout/persuasion.txt` (else built-in) for the BABILong book and
    /// `eval/words/{nouns,adjectives,verbs}.txt` (else built-in) for words.
    public static func load(dataDirectory: URL) -> EvalTextSources {
        func read(_ relative: String) -> String? {
            let url = dataDirectory.appendingPathComponent(relative)
            guard let data = try? Data(contentsOf: url), !data.isEmpty else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        let novel = read("heldout/persuasion.txt")
        let essays = read("eval/paul_graham_essays.txt")
        let essayText = essays ?? novel ?? BuiltInText.essay
        let essaySource =
            essays != nil ? "paul_graham_essays" : (novel != nil ? "persuasion" : "built-in")
        let lists = ["nouns", "adjectives", "verbs"].map { read("eval/words/\($0).txt") }
        let haveWords = lists.allSatisfy { $0 != nil }
        func words(_ text: String?, _ fallback: [String]) -> [String] {
            guard haveWords, let text else { return fallback }
            return text.split(whereSeparator: \.isNewline).map(String.init)
        }
        return EvalTextSources(
            essayText: essayText, essaySource: essaySource,
            bookText: novel ?? BuiltInText.book,
            bookSource: novel != nil ? "persuasion" : "built-in",
            nouns: words(lists[0], BuiltInText.nouns),
            adjectives: words(lists[1], BuiltInText.adjectives),
            verbs: words(lists[2], BuiltInText.verbs),
            wordSource: haveWords ? "wonderwords" : "built-in")
    }

    /// Where each text came from, as `essays=... book=... words=...` (an evaluation records
    /// it, so results from other texts are not mixed in).
    public var summary: String {
        "essays=\(essaySource) book=\(bookSource) words=\(wordSource)"
    }

    // MARK: - Text preparation

    /// `text` folded to ASCII with runs of whitespace collapsed to one space, split after
    /// `.`, `?` or `!` followed by a space (the sentence keeps its punctuation, not the space).
    public static func sentences(of text: String) -> [[UInt8]] {
        let bytes = foldToASCII(text)
        var sentences: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            current.append(byte)
            let isEnd =
                byte == UInt8(ascii: ".") || byte == UInt8(ascii: "?")
                || byte == UInt8(ascii: "!")
            if isEnd, index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: " ") {
                sentences.append(current)
                current.removeAll(keepingCapacity: true)
                index += 1  // the space between sentences becomes the joiner
            }
            index += 1
        }
        if !current.isEmpty { sentences.append(current) }
        return sentences.filter { !$0.isEmpty }
    }

    /// ASCII bytes of `text`: typographic quotes and dashes become their ASCII look-alikes,
    /// other non-ASCII characters are dropped, whitespace runs become one space.
    public static func foldToASCII(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var lastWasSpace = true  // also trims leading whitespace
        func emit(_ scalarText: String) {
            for byte in scalarText.utf8 {
                let isSpace = byte == 0x20
                if isSpace && lastWasSpace { continue }
                out.append(byte)
                lastWasSpace = isSpace
            }
        }
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D, 0x20, 0xA0: emit(" ")
            case 0x21...0x7E: emit(String(scalar))
            case 0x2018, 0x2019, 0x2032: emit("'")
            case 0x201C, 0x201D: emit("\"")
            case 0x2013, 0x2014: emit("-")
            case 0x2026: emit("...")
            default: continue
            }
        }
        while out.last == 0x20 { out.removeLast() }
        return out
    }

    private static func cleanWords(_ words: [String]) -> [String] {
        let cleaned = words.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { word in
                !word.isEmpty && word.unicodeScalars.allSatisfy { $0.isASCII && $0 != " " }
            }
        return Array(Set(cleaned)).sorted()
    }
}
