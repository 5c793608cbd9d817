/// GPT-2's byte-to-unicode table: each of the 256 byte values is written as one printable
/// character, so a token's bytes can be stored as a JSON string key. Printable Latin-1 bytes
/// map to themselves; the other 68 (controls, space, 0x7F-0xA0, 0xAD) map to U+0100 onwards,
/// in byte order (space becomes "Ġ", newline "Ċ").
public enum ByteLevelAlphabet {
    /// The character of each byte value, indexed by the byte.
    public static let characters: [Character] = {
        var scalars = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable =
                (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte)
                || (0xAE...0xFF).contains(byte)
            if printable {
                scalars[byte] = UInt32(byte)
            } else {
                scalars[byte] = next
                next += 1
            }
        }
        return scalars.map { Character(Unicode.Scalar($0)!) }
    }()

    /// The byte of each alphabet character (the inverse of ``characters``).
    public static let bytes: [Character: UInt8] = {
        var table: [Character: UInt8] = [:]
        for (byte, character) in characters.enumerated() { table[character] = UInt8(byte) }
        return table
    }()

    /// The alphabet string of `bytes` (one character per byte).
    public static func string(of bytes: some Sequence<UInt8>) -> String {
        String(bytes.map { characters[Int($0)] })
    }

    /// The bytes an alphabet string stands for, or nil when a character is not in the alphabet.
    public static func bytes(of string: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(string.unicodeScalars.count)
        for character in string {
            guard let byte = bytes[character] else { return nil }
            result.append(byte)
        }
        return result
    }
}
