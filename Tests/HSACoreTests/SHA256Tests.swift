import Foundation
import HSACore
import Testing

@Suite struct SHA256Tests {
    @Test func matchesKnownVectors() {
        #expect(
            SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Two-block message (56 bytes forces a second padding block).
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// Feeding the same bytes in uneven pieces (inside, across and on block borders) gives
    /// the one-shot digest.
    @Test func piecesGiveTheOneShotDigest() {
        let message = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = SHA256.digest(message)
        for pieceSize in [1, 3, 63, 64, 65, 200] {
            var hasher = SHA256()
            for start in stride(from: 0, to: message.count, by: pieceSize) {
                hasher.update(message[start..<min(start + pieceSize, message.count)])
            }
            #expect(hasher.finalize() == expected, "pieces of \(pieceSize)")
        }
    }

    /// FIPS 180-2's long-message vector: one million "a" read from a file in 1 MiB pieces.
    @Test func fileDigestMatchesTheMillionAVector() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sha256-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: url)
        #expect(
            try SHA256.fileHex(at: url)
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
