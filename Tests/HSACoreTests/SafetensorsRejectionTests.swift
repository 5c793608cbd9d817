import Foundation
import Testing

@testable import HSACore

/// Each malformed file is rejected with its own specific error.
@Suite struct SafetensorsRejectionTests {
    private let f32x2 = #"{"dtype":"F32","shape":[2],"data_offsets":"#

    private func open(_ data: Data) throws {
        _ = try SafetensorsFile(data: data, fileName: "bad.safetensors")
    }

    @Test func headerTooLarge() {
        let data = safetensorsBytes(json: "{}", dataBytes: 0, headerLength: 100_000_001)
        #expect(
            throws: SafetensorsError.headerTooLarge(
                file: "bad.safetensors", headerLength: 100_000_001, limit: 100_000_000)
        ) {
            try open(data)
        }
    }

    @Test func headerLengthBeyondFile() {
        let data = safetensorsBytes(json: "{}", dataBytes: 0, headerLength: 64)
        #expect(
            throws: SafetensorsError.headerBeyondFile(
                file: "bad.safetensors", headerLength: 64, fileSize: 10)
        ) {
            try open(data)
        }
    }

    @Test func fileShorterThanLengthField() {
        #expect(throws: SafetensorsError.fileTooSmall(file: "bad.safetensors", size: 3)) {
            try open(Data([1, 2, 3]))
        }
    }

    @Test func truncatedFile() {
        let json = #"{"x":\#(f32x2)[0,8]}}"#
        let data = safetensorsBytes(json: json, dataBytes: 5)
        let expected = 8 + json.utf8.count + 8
        #expect(
            throws: SafetensorsError.truncated(
                file: "bad.safetensors", expectedSize: expected, actualSize: expected - 3)
        ) {
            try open(data)
        }
    }

    @Test func fileLongerThanBuffer() {
        let json = #"{"x":\#(f32x2)[0,8]}}"#
        let data = safetensorsBytes(json: json, dataBytes: 9)
        let expected = 8 + json.utf8.count + 8
        #expect(
            throws: SafetensorsError.trailingBytes(
                file: "bad.safetensors", expectedSize: expected, actualSize: expected + 1)
        ) {
            try open(data)
        }
    }

    @Test func gapBetweenOffsets() {
        let json = #"{"a":\#(f32x2)[0,8]},"b":\#(f32x2)[12,20]}}"#
        #expect(
            throws: SafetensorsError.offsetGap(
                file: "bad.safetensors", tensor: "b", previous: "a", previousEnd: 8, begin: 12)
        ) {
            try open(safetensorsBytes(json: json, dataBytes: 20))
        }
    }

    @Test func overlappingOffsets() {
        let json = #"{"a":\#(f32x2)[0,8]},"b":\#(f32x2)[4,12]}}"#
        #expect(
            throws: SafetensorsError.offsetOverlap(
                file: "bad.safetensors", tensor: "b", previous: "a", previousEnd: 8, begin: 4)
        ) {
            try open(safetensorsBytes(json: json, dataBytes: 12))
        }
    }

    @Test func offsetsNotStartingAtZero() {
        let json = #"{"a":\#(f32x2)[4,12]}}"#
        #expect(
            throws: SafetensorsError.notStartingAtZero(
                file: "bad.safetensors", tensor: "a", begin: 4)
        ) {
            try open(safetensorsBytes(json: json, dataBytes: 12))
        }
    }

    @Test func wrongByteCountForShape() {
        let json = #"{"embed.weight":{"dtype":"F32","shape":[5,6],"data_offsets":[0,100]}}"#
        let expected = SafetensorsError.byteCountMismatch(
            file: "bad.safetensors", tensor: "embed.weight", offsets: [0, 100], dtype: .f32,
            shape: [5, 6], expectedBytes: 120)
        #expect(throws: expected) { try open(safetensorsBytes(json: json, dataBytes: 100)) }
        #expect(
            expected.description
                == "bad.safetensors: tensor 'embed.weight' data_offsets [0, 100] but F32 [5, 6] "
                + "needs 120 bytes")
    }

    @Test func shapeOverflow() {
        let huge = #"{"a":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#
        #expect(
            throws: SafetensorsError.sizeOverflow(
                file: "bad.safetensors", tensor: "a", shape: [4_611_686_018_427_387_904, 4])
        ) {
            try open(safetensorsBytes(json: huge, dataBytes: 8))
        }
    }

    @Test func unknownDType() {
        let json = #"{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}"#
        let expected = SafetensorsError.unknownDType(
            file: "bad.safetensors", tensor: "a", dtype: "F4")
        #expect(throws: expected) { try open(safetensorsBytes(json: json, dataBytes: 1)) }
        #expect(expected.description.contains("hint: supported dtypes are BOOL"))
    }

    @Test func duplicateKey() {
        let json = #"{"a":\#(f32x2)[0,8]},"a":\#(f32x2)[8,16]}}"#
        #expect(throws: SafetensorsError.duplicateKey(file: "bad.safetensors", key: "a")) {
            try open(safetensorsBytes(json: json, dataBytes: 16))
        }
        let metadata = #"{"__metadata__":{"k":"1","k":"2"}}"#
        #expect(throws: SafetensorsError.duplicateKey(file: "bad.safetensors", key: "k")) {
            try open(safetensorsBytes(json: metadata, dataBytes: 0))
        }
    }

    @Test func invalidJSON() {
        for json in [#"{"a":"#, "[1,2]", #"{"a":1,}"#, "{} x"] {
            #expect(
                performing: { try open(safetensorsBytes(json: json, dataBytes: 0)) },
                throws: { error in
                    guard case SafetensorsError.invalidJSON = error else { return false }
                    return true
                })
        }
        let invalidUTF8 = safetensorsBytes(json: "{\"\u{FF}\":1}", dataBytes: 0)
        var bytes = [UInt8](invalidUTF8)
        bytes[10] = 0xFF  // replace the first byte of the two-byte sequence for U+00FF
        #expect(throws: SafetensorsError.invalidUTF8(file: "bad.safetensors")) {
            try open(Data(bytes))
        }
    }

    @Test func invalidMetadataAndEntries() {
        let metadata = #"{"__metadata__":{"step":3}}"#
        #expect(
            performing: { try open(safetensorsBytes(json: metadata, dataBytes: 0)) },
            throws: { error in
                guard case SafetensorsError.invalidMetadata = error else { return false }
                return true
            })
        let missing = #"{"a":{"dtype":"F32","shape":[2]}}"#
        #expect(
            throws: SafetensorsError.invalidEntry(
                file: "bad.safetensors", tensor: "a", reason: "missing field 'data_offsets'")
        ) {
            try open(safetensorsBytes(json: missing, dataBytes: 0))
        }
    }

    @Test func missingTensorAndMissingFile() throws {
        let data = try SafetensorsWriter.encode([
            SafetensorsEntry(name: "a", shape: [], floats: [1])
        ])
        let file = try SafetensorsFile(data: data)
        #expect(throws: SafetensorsError.tensorNotFound(file: "<memory>", tensor: "b")) {
            try file.floats("b")
        }
        #expect(throws: SafetensorsError.self) {
            try SafetensorsFile(url: URL(fileURLWithPath: "/nonexistent/x.safetensors"))
        }
    }
}
