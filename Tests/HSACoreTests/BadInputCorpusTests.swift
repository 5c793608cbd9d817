import Foundation
import HSACore
import Testing

/// Generated bad safetensors headers (seeded, so every run tries the same cases): each must be
/// refused by `SafetensorsFile(data:fileName:)` with a ``SafetensorsError`` naming the file,
/// never a trap (docs/RELIABILITY.md, "The bad-input corpus").
@Suite struct BadInputCorpusTests {
    /// Generated safetensors cases (docs/RELIABILITY.md counts them).
    static let caseCount = 300

    /// A safetensors file whose header is `json` (padded with spaces to 8 bytes) over a
    /// data buffer of `bufferSize` bytes.
    static func file(header json: String, bufferSize: Int) -> Data {
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        data.append(Data(count: bufferSize))
        return data
    }

    /// A header of tensors "a" (F32 [2, 2]) and "b" (F32 [3]), with entry fields replaceable.
    static func header(
        dtype: String = #""F32""#, shape: String = "[2, 2]", offsets: String = "[0, 16]",
        extra: String = ""
    ) -> String {
        #"{"a": {"dtype": \#(dtype), "shape": \#(shape), "data_offsets": \#(offsets)}, "#
            + #""b": {"dtype": "F32", "shape": [3], "data_offsets": [16, 28]}\#(extra)}"#
    }

    /// One bad file.
    static func badFile(_ rng: inout SplitMix64) -> Data {
        let valid = file(header: header(), bufferSize: 28)
        let any = Int.random(in: -1_000_000...1_000_000, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:  // The header length: past the file, huge, or cutting the JSON short.
            var data = valid
            let length: UInt64 = [
                UInt64(data.count), UInt64.random(in: 1 << 30...UInt64.max, using: &rng),
                UInt64.random(in: 1...40, using: &rng),
            ].randomElement(using: &rng)!
            withUnsafeBytes(of: length.littleEndian) { data.replaceSubrange(0..<8, with: $0) }
            return data
        case 1:  // Unknown or mistyped dtype.
            let dtype = [#""F33""#, #""""#, "7", "null", #"["F32"]"#].randomElement(using: &rng)!
            return file(header: header(dtype: dtype), bufferSize: 28)
        case 2:  // A shape that does not match the offsets, or is not a shape.
            let shape = ["[\(any), 3]", "[-1, 4]", "[5]", "\"2x2\"", "[2.5, 2]", "[\(Int.max), 2]"]
                .randomElement(using: &rng)!
            return file(header: header(shape: shape), bufferSize: 28)
        case 3:  // Offsets reversed, overlapping, past the buffer, or not two integers.
            let offsets = ["[16, 0]", "[4, 20]", "[0, 16, 2]", "[0]", "[\(any), \(any + 16)]"]
                .filter { $0 != "[0, 16]" }.randomElement(using: &rng)!
            return file(header: header(offsets: offsets), bufferSize: 28)
        case 4:  // A duplicate tensor or a bad metadata entry.
            let extra = [
                #", "b": {"dtype": "F32", "shape": [3], "data_offsets": [16, 28]}"#,
                #", "__metadata__": {"k": 1}"#, #", "__metadata__": [1]"#, #", "c": 5"#,
            ].randomElement(using: &rng)!
            return file(header: header(extra: extra), bufferSize: 28)
        case 5:  // The data buffer cut short or extended.
            return file(header: header(), bufferSize: [27, 29, 0, 100].randomElement(using: &rng)!)
        default:  // The file cut short anywhere, even inside the length.
            return valid.prefix(Int.random(in: 0..<valid.count - 28, using: &rng))
        }
    }

    @Test func generatedBadHeadersAreRefusedNamingTheFile() throws {
        _ = try SafetensorsFile(data: Self.file(header: Self.header(), bufferSize: 28))
        var rng = SplitMix64(seed: 20_261_206)
        for number in 0..<Self.caseCount {
            let data = Self.badFile(&rng)
            let name = "case-\(number).safetensors"
            do {
                _ = try SafetensorsFile(data: data, fileName: name)
                Issue.record("case \(number) accepted: \(String(decoding: data, as: UTF8.self))")
            } catch let error as SafetensorsError {
                #expect(error.description.contains(name), "case \(number): \(error)")
            }
        }
    }
}
