import Foundation
import HSA
import Testing

/// Segment checksums locate a damaged byte, and extending them equals hashing afresh.
@Suite struct SegmentChecksumsTests {
    static let bytes = (0..<2500).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 256) }

    @Test func digestsAreThoseOfEachSegment() {
        let checksums = Self.bytes.withUnsafeBytes { SegmentChecksums(of: $0, segmentBytes: 1000) }
        #expect(checksums.segmentCount == 3 && checksums.isConsistent)
        #expect(checksums.range(ofSegment: 2) == 2000..<2500)
        var hasher = SHA256()
        hasher.update(Self.bytes[1000..<2000])
        #expect(checksums.digests[1] == hasher.finalizeHex())
        let empty = [UInt8]().withUnsafeBytes { SegmentChecksums(of: $0, segmentBytes: 1000) }
        #expect(empty.segmentCount == 0 && empty.digests.isEmpty)
    }

    @Test func firstMismatchNamesTheDamagedSegment() {
        let checksums = Self.bytes.withUnsafeBytes { SegmentChecksums(of: $0, segmentBytes: 1000) }
        #expect(Self.bytes.withUnsafeBytes { checksums.firstMismatch(in: $0) } == nil)
        var damaged = Self.bytes
        damaged[1500] ^= 1
        #expect(damaged.withUnsafeBytes { checksums.firstMismatch(in: $0) } == 1)
        // Bytes after the covered ones are not checked.
        let longer = Self.bytes + [1, 2, 3]
        #expect(longer.withUnsafeBytes { checksums.firstMismatch(in: $0) } == nil)
    }

    @Test(arguments: [0, 999, 1000, 1001, 2500])
    func extendingEqualsHashingAfresh(start: Int) {
        let prefix = Array(Self.bytes[..<start])
        let first = prefix.withUnsafeBytes { SegmentChecksums(of: $0, segmentBytes: 1000) }
        let extended = Self.bytes.withUnsafeBytes { first.extended(to: $0) }
        let fresh = Self.bytes.withUnsafeBytes { SegmentChecksums(of: $0, segmentBytes: 1000) }
        #expect(extended == fresh)
    }
}
