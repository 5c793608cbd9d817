import Foundation
import HSAData
import HSATestSupport
import Testing

@Suite struct TokenShardTests {
    /// Writes `tokens` (and `mask`) to `name` in `directory`.
    func writeShard(
        _ directory: TemporaryDirectory, _ name: String, tokens: [Int32],
        mask: [UInt8]? = nil, vocabularySize: Int = 259
    ) throws -> URL {
        let url = directory.file(name)
        let writer = try TokenShardWriter(
            url: url, vocabularySize: vocabularySize, hasLossMask: mask != nil)
        // Two appends exercise the streaming path.
        let half = tokens.count / 2
        if let mask {
            try writer.append(Array(tokens[..<half]), lossMask: Array(mask[..<half]))
            try writer.append(Array(tokens[half...]), lossMask: Array(mask[half...]))
        } else {
            try writer.append(Array(tokens[..<half]))
            try writer.append(Array(tokens[half...]))
        }
        try writer.finish()
        return url
    }

    @Test func roundTripU16WithMask() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokens: [Int32] = [256, 72, 105, 0, 255, 257, 258, 33, 10]
        let mask: [UInt8] = [1, 1, 0, 1, 0, 1, 0, 1, 1]
        let url = try writeShard(directory, "a.bin", tokens: tokens, mask: mask)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        #expect(size == 64 + tokens.count * 2 + tokens.count)
        let reader = try TokenShardReader(url: url)
        #expect(reader.header.dtype == .u16)
        #expect(reader.hasLossMask && reader.vocabularySize == 259)
        #expect(reader.allTokens() == tokens)
        #expect(reader.tokens(in: 2..<5) == [105, 0, 255])
        #expect(reader.lossMask(in: 0..<tokens.count) == mask)
        // No temporary file is left next to the shard.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(names == ["a.bin"])
    }

    @Test func roundTripU32WithoutMask() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokens: [Int32] = [0, 65_535, 65_536, 99_999, 7]
        let url = try writeShard(directory, "b.bin", tokens: tokens, vocabularySize: 100_000)
        let reader = try TokenShardReader(url: url)
        #expect(reader.header.dtype == .u32)
        #expect(!reader.hasLossMask)
        #expect(reader.allTokens() == tokens)
        #expect(reader.lossMask(in: 1..<3) == [1, 1])
    }

    @Test func cancelLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try TokenShardWriter(url: directory.file("c.bin"), vocabularySize: 259)
        try writer.append([1, 2, 3])
        writer.cancel()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
        #expect(throws: TokenShardError.self) { try writer.append([4]) }
    }

    @Test func writerRejectsOutOfRangeTokens() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try TokenShardWriter(url: directory.file("d.bin"), vocabularySize: 259)
        defer { writer.cancel() }
        try writer.append([1, 2])
        let error = #expect(throws: TokenShardError.self) { try writer.append([3, 259]) }
        #expect(error?.description.contains("token 259 at position 3") == true)
    }

    // MARK: - Rejections

    /// Opens `url` and returns the error message.
    func openError(_ url: URL) -> String {
        let error = #expect(throws: TokenShardError.self) { _ = try TokenShardReader(url: url) }
        return error?.description ?? ""
    }

    func patch(_ url: URL, at offset: Int, bytes: [UInt8]) throws {
        var data = try Data(contentsOf: url)
        data.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        try data.write(to: url)
    }

    @Test func rejectsBadMagic() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try writeShard(directory, "m.bin", tokens: [1, 2, 3, 4])
        try patch(url, at: 0, bytes: Array("SAFETENS".utf8))
        let message = openError(url)
        #expect(message.contains("not an hsa token shard"))
        #expect(message.contains("\"SAFETENS\"") && message.contains("hint:"))
        #expect(message.contains(url.path))
        let tiny = try directory.write("tiny.bin", "HSA")
        #expect(openError(tiny).contains("not an hsa token shard"))
    }

    @Test func rejectsNewerVersion() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try writeShard(directory, "v.bin", tokens: [1, 2, 3, 4])
        try patch(url, at: 8, bytes: [2, 0, 0, 0])
        let message = openError(url)
        #expect(message.contains("version 2"))
        #expect(message.contains("written by a newer hsa"))
    }

    @Test func rejectsUnknownDType() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try writeShard(directory, "t.bin", tokens: [1, 2, 3, 4])
        try patch(url, at: 12, bytes: [3, 0, 0, 0])
        #expect(openError(url).contains("unknown token dtype code 3"))
    }

    @Test func rejectsTruncatedFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try writeShard(directory, "x.bin", tokens: [1, 2, 3, 4], mask: [1, 1, 1, 1])
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 1).write(to: url)
        let message = openError(url)
        #expect(message.contains("is 75 bytes, expected 76"))
        #expect(message.contains("truncated"))
    }

    @Test func rejectsTokenOutsideVocabulary() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try writeShard(directory, "o.bin", tokens: [1, 2, 3, 4, 5])
        // Token 3 (bytes 64 + 6 ..< 64 + 8) becomes 300 = 0x012C.
        try patch(url, at: 64 + 6, bytes: [0x2C, 0x01])
        let message = openError(url)
        #expect(message.contains("token 300 at position 3"))
        #expect(message.contains("0..<259") && message.contains(url.path))
        // Deferred validation opens the file and reports the same position on request.
        let reader = try TokenShardReader(url: url, validateTokens: false)
        let error = #expect(throws: TokenShardError.self) { try reader.validateTokens() }
        #expect(error?.description.contains("position 3") == true)
    }
}
