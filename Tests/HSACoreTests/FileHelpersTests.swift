import Foundation
import HSATestSupport
import Testing

@testable import HSACore

@Suite struct AtomicFileTests {
    @Test func writeReplacesContentsAndLeavesNoTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("state.bin")
        try AtomicFile.write(Data("old".utf8), to: url)
        try AtomicFile.write(Data("new contents".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("new contents".utf8))
        #expect(try directory.contents() == ["state.bin"])
    }

    @Test func failedWriteKeepsOldFileAndRemovesTemporary() throws {
        struct Interrupted: Error {}
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("state.bin")
        try AtomicFile.write(Data("old".utf8), to: url)
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: url) { sink in
                try sink.write(Data("partial".utf8))
                throw Interrupted()
            }
        }
        #expect(try Data(contentsOf: url) == Data("old".utf8))
        #expect(try directory.contents() == ["state.bin"])
    }

    @Test func missingDirectoryIsReported() {
        let url = URL(fileURLWithPath: "/nonexistent-hsa-dir/file.bin")
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data([1]), to: url) }
    }
}

@Suite struct JSONLinesTests {
    struct Event: Codable, Equatable {
        var step: Int
        var loss: Double
        var note: String
    }

    @Test func encodableRoundTripWithNonFiniteValues() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("log.jsonl")
        let events = [
            Event(step: 1, loss: 2.5, note: "a/b"), Event(step: 2, loss: .infinity, note: "é\n"),
        ]
        let writer = try JSONLinesWriter(url: url, append: false)
        for event in events { try writer.write(event) }
        try writer.write(Event(step: 3, loss: .nan, note: ""))
        let decoded = try JSONLines.read(Event.self, from: url)
        #expect(Array(decoded.prefix(2)) == events)
        #expect(decoded.count == 3 && decoded[2].loss.isNaN)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 3)
        #expect(text.hasPrefix(#"{"loss":2.5,"note":"a/b","step":1}"#))
    }

    /// Two writers opened on one file before either writes: each line is appended, none
    /// overwrites another (an open that seeks to the end once would write both at offset 0).
    @Test func twoWritersOfOneFileKeepEveryLine() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("shared.jsonl")
        let first = try JSONLinesWriter(url: url, append: true)
        let second = try JSONLinesWriter(url: url, append: true)
        try first.write(dictionary: ["index": 0, "by": "first"])
        try second.write(dictionary: ["index": 1, "by": "second"])
        try first.write(dictionary: ["index": 2, "by": "first"])
        let rows = try JSONLines.read(url)
        #expect(rows.compactMap { $0["index"] as? Int } == [0, 1, 2])
    }

    @Test func dictionariesAppendAndTruncatedLastLineIsSkipped() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("log.jsonl")
        try JSONLinesWriter(url: url).write(dictionary: ["step": 1, "loss": 3.25])
        let appended = try JSONLinesWriter(url: url, append: true)
        try appended.write(dictionary: ["step": 2, "norm": Double.nan, "tags": ["x"]])
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"step": 3, "lo"#.utf8))  // crash mid-line
        try handle.close()
        let rows = try JSONLines.read(url)
        #expect(rows.count == 2)
        #expect(rows[0]["loss"] as? Double == 3.25)
        #expect(rows[1]["norm"] as? String == "NaN")
        #expect(rows[1]["tags"] as? [String] == ["x"])
    }

    @Test func invalidMiddleLineIsReportedWithItsNumber() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("bad.jsonl")
        try Data("{\"a\":1}\n\nnot json\n{\"a\":2}\n".utf8).write(to: url)
        #expect(throws: JSONLinesError.invalidLine(path: url.path, line: 3)) {
            try JSONLines.read(url)
        }
    }
}
