import Foundation
import HSACore
import HSAData
import HSATestSupport
import Testing

/// Generated corruptions of a valid token shard (seeded, so every run tries the same cases):
/// each must be refused by `TokenShardReader` with a ``TokenShardError`` naming the file,
/// never a trap (docs/RELIABILITY.md, "The bad-input corpus").
@Suite struct BadInputCorpusTests {
    /// Generated shard cases (docs/RELIABILITY.md counts them).
    static let caseCount = 400

    /// `bytes` with the little-endian `value` of `width` bytes at `offset`.
    static func store(_ value: UInt64, width: Int, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    /// One corruption of `valid` (a u16 shard of `count` tokens, the largest 258, vocabulary
    /// 259) that no reader may accept: bad magic, version or dtype, a wrong token count, a loss
    /// mask flag without the mask, a vocabulary too small for its tokens or too large for u16,
    /// or a file cut short or extended.
    static func corrupt(_ valid: [UInt8], count: Int, _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = valid
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:  // Magic: one byte changed.
            let offset = Int.random(in: 0..<8, using: &rng)
            bytes[offset] ^= UInt8.random(in: 1...255, using: &rng)
        case 1:  // Version other than 1.
            let version = UInt64.random(in: 2...UInt64(UInt32.max), using: &rng)
            store(Bool.random(using: &rng) ? 0 : version, width: 4, at: 8, in: &bytes)
        case 2:  // Unknown dtype, or u32 for u16 data (the length no longer matches).
            let dtype = [0, 2, 3, UInt64.random(in: 4...UInt64(UInt32.max), using: &rng)]
            store(dtype.randomElement(using: &rng)!, width: 4, at: 12, in: &bytes)
        case 3:  // A token count that does not match the file.
            var claimed = UInt64.random(in: 0...UInt64.max, using: &rng)
            if Bool.random(using: &rng) { claimed = UInt64(count) &+ UInt64.random(in: 1...64) }
            if claimed == UInt64(count) { claimed += 1 }
            store(claimed, width: 8, at: 24, in: &bytes)
        case 4:  // The loss-mask flag without the mask bytes.
            bytes[16] |= 1
        case 5:  // A vocabulary its tokens do not fit, or one too large for u16 tokens.
            let vocabulary =
                Bool.random(using: &rng)
                ? UInt64.random(in: 0...258, using: &rng)
                : UInt64.random(in: 65_537...UInt64(UInt32.max), using: &rng)
            store(vocabulary, width: 4, at: 32, in: &bytes)
        default:  // The file cut short (even inside the header) or extended.
            if Bool.random(using: &rng) {
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            } else {
                bytes += (0..<Int.random(in: 1...9, using: &rng)).map { _ in UInt8(7) }
            }
        }
        return bytes
    }

    @Test func generatedShardCorruptionsAreRefusedNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokens: [Int32] = (0..<50).map { Int32($0 * 5 % 259) } + [258]
        let validURL = directory.file("valid.bin")
        let writer = try TokenShardWriter(url: validURL, vocabularySize: 259, hasLossMask: false)
        try writer.append(tokens)
        try writer.finish()
        let valid = try [UInt8](Data(contentsOf: validURL))
        _ = try TokenShardReader(url: validURL)  // The base case is valid.
        var rng = SplitMix64(seed: 20_261_206)
        for number in 0..<Self.caseCount {
            let url = directory.file("case-\(number).bin")
            try Data(Self.corrupt(valid, count: tokens.count, &rng)).write(to: url)
            do {
                _ = try TokenShardReader(url: url)
                Issue.record("case \(number) accepted")
            } catch let error as TokenShardError {
                #expect(error.description.contains(url.path), "case \(number): \(error)")
            }
            try FileManager.default.removeItem(at: url)
        }
    }
}
