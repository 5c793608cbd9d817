/// Splits text into the pieces GPT-2's byte-level pre-tokenizer makes, without a regex engine.
///
/// It is the leftmost-first reading of the Hugging Face `ByteLevel` pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, one case per
/// alternative:
/// - an apostrophe starting one of the seven English contractions is that contraction;
/// - a run of letters, of numbers, or of other characters (neither space, letter nor number),
///   taking one leading U+0020 space with it;
/// - a run of whitespace followed by more text leaves its last character to start the next
///   piece (so " word" keeps its space), a run at the end of the text is one piece.
///
/// Classes are those of Unicode scalars: `\s` is the White_Space property, `\p{L}` and `\p{N}`
/// the letter and number general categories (as Oniguruma, the `tokenizers` regex engine, has
/// them). Merges never cross a piece, so pieces are the unit of the encoder's cache.
public enum ByteLevelPreTokenizer {
    /// The pieces of `text` as ranges of its UTF-8 bytes, in order, covering it exactly.
    public static func pieces(of utf8: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        forEachPiece(of: utf8) { result.append($0) }
        return result
    }

    /// Calls `body` with each piece of the UTF-8 text in `utf8` (valid UTF-8), in order.
    public static func forEachPiece(
        of utf8: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void
    ) {
        let count = utf8.count
        var start = 0
        while start < count {
            let end = pieceEnd(utf8, from: start)
            body(start..<end)
            start = end
        }
    }

    /// Where the piece starting at `start` ends.
    private static func pieceEnd(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = utf8.count
        if utf8[start] == UInt8(ascii: "'"), let length = contractionLength(utf8, at: start) {
            return start + length
        }
        let first = scalarClass(utf8, at: start)
        var runClass = first.kind
        var position = start + first.length
        if utf8[start] == UInt8(ascii: " "), position < count {
            // " ?X+": the space leads a run of the class after it, unless that is whitespace.
            let next = scalarClass(utf8, at: position)
            if next.kind != .whitespace {
                runClass = next.kind
                position += next.length
            }
        }
        if runClass != .whitespace {
            while position < count {
                let next = scalarClass(utf8, at: position)
                guard next.kind == runClass else { break }
                position += next.length
            }
            return position
        }
        // Whitespace: `\s+(?!\S)` gives back the run's last character when text follows and
        // the run is longer than one; a single one before text is `\s+`.
        var lastStart = start
        while position < count {
            let next = scalarClass(utf8, at: position)
            guard next.kind == .whitespace else { break }
            lastStart = position
            position += next.length
        }
        if position == count || lastStart == start { return position }
        return lastStart
    }

    /// The length of `'s`, `'t`, `'re`, `'ve`, `'m`, `'ll` or `'d` at `index`, if one is there.
    private static func contractionLength(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int)
        -> Int?
    {
        guard index + 1 < utf8.count else { return nil }
        switch utf8[index + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return index + 2 < utf8.count && utf8[index + 2] == UInt8(ascii: "e") ? 3 : nil
        case UInt8(ascii: "l"):
            return index + 2 < utf8.count && utf8[index + 2] == UInt8(ascii: "l") ? 3 : nil
        default:
            return nil
        }
    }

    /// The class of a scalar as the pattern sees it.
    enum Kind: UInt8 {
        case letter, number, whitespace, other
    }

    /// The class and UTF-8 length of the scalar at `index` (a scalar boundary of valid UTF-8).
    static func scalarClass(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int)
        -> (kind: Kind, length: Int)
    {
        let lead = utf8[index]
        if lead < 0x80 { return (asciiKinds[Int(lead)], 1) }
        var value: UInt32
        var length: Int
        if lead >= 0xF0 {
            value = UInt32(lead & 0x07)
            length = 4
        } else if lead >= 0xE0 {
            value = UInt32(lead & 0x0F)
            length = 3
        } else {
            value = UInt32(lead & 0x1F)
            length = 2
        }
        for offset in 1..<length { value = value << 6 | UInt32(utf8[index + offset] & 0x3F) }
        guard let scalar = Unicode.Scalar(value) else { return (.other, length) }
        return (kind(of: scalar), length)
    }

    /// The class of one scalar.
    static func kind(of scalar: Unicode.Scalar) -> Kind {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// The classes of the 128 ASCII scalars (the common case, looked up without decoding).
    private static let asciiKinds: [Kind] = (0..<128).map {
        kind(of: Unicode.Scalar(UInt8($0)))
    }
}
