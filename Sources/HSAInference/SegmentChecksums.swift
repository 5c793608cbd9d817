import HSACore

/// The SHA-256 of every fixed-size segment of a file's first `bytes` bytes (the last segment
/// may be shorter). Per segment rather than per file: a damaged byte is located, segments are
/// checked in parallel, and a file that only grows rehashes only the segments that changed.
public struct SegmentChecksums: Codable, Equatable, Sendable {
    /// Bytes covered, from the start of the file.
    public private(set) var bytes: Int
    /// Bytes per segment.
    public let segmentBytes: Int
    /// One lowercase hex digest per segment.
    public private(set) var digests: [String]

    enum CodingKeys: String, CodingKey {
        case bytes
        case segmentBytes = "segment_bytes"
        case digests = "sha256"
    }

    /// The checksums of all of `data`, in segments of `segmentBytes`.
    public init(of data: UnsafeRawBufferPointer, segmentBytes: Int) {
        self.segmentBytes = max(1, segmentBytes)
        bytes = data.count
        digests = Self.digests(
            of: data, segments: 0..<Self.count(data.count, self.segmentBytes),
            segmentBytes: self.segmentBytes)
    }

    /// Segments covering `bytes` bytes.
    public var segmentCount: Int { Self.count(bytes, segmentBytes) }

    /// The byte range of segment `index`.
    public func range(ofSegment index: Int) -> Range<Int> {
        index * segmentBytes..<min((index + 1) * segmentBytes, bytes)
    }

    /// Whether the numbers agree with each other (one digest per segment, a positive
    /// segment size): what a decoded value must be before it is used.
    public var isConsistent: Bool {
        segmentBytes > 0 && bytes >= 0 && digests.count == segmentCount
    }

    /// The first segment whose bytes in `data` (a file's bytes from its start, at least
    /// `bytes` of them) do not have their recorded digest; nil when every one does.
    public func firstMismatch(in data: UnsafeRawBufferPointer) -> Int? {
        precondition(data.count >= bytes && isConsistent, "checksums that do not fit the data")
        let covered = UnsafeRawBufferPointer(rebasing: data[..<bytes])
        let actual = Self.digests(
            of: covered, segments: 0..<segmentCount, segmentBytes: segmentBytes)
        return actual.indices.first { actual[$0] != digests[$0] }
    }

    /// These checksums extended to all of `data`, which starts with the bytes they cover:
    /// the complete segments are kept, the last (partial) one and the new ones hashed.
    public func extended(to data: UnsafeRawBufferPointer) -> SegmentChecksums {
        precondition(data.count >= bytes, "a file that only grows")
        var result = self
        let kept = bytes / segmentBytes
        result.bytes = data.count
        result.digests = Array(digests[..<kept])
        result.digests += Self.digests(
            of: data, segments: kept..<result.segmentCount, segmentBytes: segmentBytes)
        return result
    }

    private static func count(_ bytes: Int, _ segmentBytes: Int) -> Int {
        (bytes + segmentBytes - 1) / segmentBytes
    }

    /// The digests of `segments` of `data`, hashed in parallel.
    private static func digests(
        of data: UnsafeRawBufferPointer, segments: Range<Int>, segmentBytes: Int
    ) -> [String] {
        var hex = [String](repeating: "", count: segments.count)
        hex.withUnsafeMutableBufferPointer { out in
            parallelFor(segments.count) { i in
                let start = (segments.lowerBound + i) * segmentBytes
                let end = min(start + segmentBytes, data.count)
                var hasher = SHA256()
                hasher.update(UnsafeRawBufferPointer(rebasing: data[start..<end]))
                out[i] = hasher.finalizeHex()
            }
        }
        return hex
    }
}
