/// Where a byte stream can be cut without splitting a UTF-8 character.
enum UTF8Tail {
    /// The length of the prefix of `bytes` that leaves out a trailing character still missing
    /// bytes (all of `bytes` when none is). Lenient decoding restarts at every byte that is
    /// not a continuation byte, so decoding the prefix and the rest apart gives the same text
    /// as decoding them together, invalid sequences included.
    static func completePrefixLength(_ bytes: some BidirectionalCollection<UInt8>) -> Int {
        var length = bytes.count
        for byte in bytes.reversed().prefix(3) {
            length -= 1
            guard byte & 0xC0 == 0x80 else {
                return bytes.count - length < sequenceLength(lead: byte) ? length : bytes.count
            }
        }
        return bytes.count
    }

    /// The length of the UTF-8 sequence a lead byte starts (1 for bytes that start none).
    private static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0xC0...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF7: return 4
        default: return 1
        }
    }
}
