import Foundation
import HSATestSupport
import Testing

@testable import HSACore

@Suite struct SafetensorsRoundTripTests {
    @Test func floatDTypesRoundTrip() throws {
        let values: [Float] = [0, 1, -2.5, 3.140625, 1e-3, -65504, 0.5, 7]
        let entries = [
            SafetensorsEntry(name: "a.f32", shape: [2, 4], floats: values),
            SafetensorsEntry(name: "b.bf16", shape: [8], floats: values, dtype: .bf16),
            SafetensorsEntry(name: "c.f16", shape: [4, 2], floats: values, dtype: .f16),
        ]
        let file = try SafetensorsFile(data: SafetensorsWriter.encode(entries))
        #expect(try file.floats("a.f32") == values)
        #expect(try file.info("a.f32").shape == [2, 4])
        #expect(try file.info("b.bf16").dtype == .bf16)
        // bf16 keeps 8 mantissa bits and f16 10: relative error at most 2^-9 and 2^-11.
        for (decoded, original) in zip(try file.floats("b.bf16"), values) {
            #expect(abs(decoded - original) <= abs(original) * 0x1.0p-9)
        }
        for (decoded, original) in zip(try file.floats("c.f16"), values) {
            #expect(abs(decoded - original) <= abs(original) * 0x1.0p-11)
        }
    }

    @Test func integerDTypesRoundTrip() throws {
        let ints: [Int32] = [0, -1, Int32.max, Int32.min, 42]
        let bytes = Data([0, 1, 2, 255])
        let entries = [
            SafetensorsEntry(name: "ids", shape: [5], int32s: ints),
            SafetensorsEntry(name: "mask", dtype: .u8, shape: [2, 2], bytes: bytes),
        ]
        let file = try SafetensorsFile(data: SafetensorsWriter.encode(entries))
        #expect(try file.int32s("ids") == ints)
        #expect(try file.bytes("mask") == bytes)
        #expect(try file.int32s("mask") == [0, 1, 2, 255])
        #expect(throws: SafetensorsError.self) { try file.floats("ids") }
    }

    @Test func emptyAndScalarTensorsAndMetadata() throws {
        let metadata = ["format": "pt", "config": "{\"layers\": 2}\n\"quoted\" \\ é"]
        let entries = [
            SafetensorsEntry(name: "empty", shape: [0, 3], floats: []),
            SafetensorsEntry(name: "scalar", shape: [], floats: [2.5]),
            SafetensorsEntry(name: "z.empty", shape: [4, 0], int32s: []),
        ]
        let file = try SafetensorsFile(data: SafetensorsWriter.encode(entries, metadata: metadata))
        #expect(file.metadata == metadata)
        #expect(try file.floats("empty").isEmpty)
        #expect(try file.info("empty").shape == [0, 3])
        #expect(try file.floats("scalar") == [2.5])
        #expect(try file.info("scalar").shape == [])
        #expect(try file.int32s("z.empty").isEmpty)
        #expect(Set(file.names) == ["empty", "scalar", "z.empty"])
    }

    @Test func writerSortsByAlignmentThenNameAndPadsHeader() throws {
        let entries = [
            SafetensorsEntry(name: "b", dtype: .u8, shape: [3], bytes: Data([1, 2, 3])),
            SafetensorsEntry(name: "z", shape: [1], floats: [1]),
            SafetensorsEntry(name: "a", dtype: .f64, shape: [1], bytes: Data(count: 8)),
            SafetensorsEntry(name: "c", shape: [2], floats: [1, 2], dtype: .bf16),
        ]
        let data = try SafetensorsWriter.encode(entries)
        let headerLength = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        let file = try SafetensorsFile(data: data)
        #expect(file.names == ["a", "z", "c", "b"])
        #expect(try file.info("z").byteRange == 8..<12)
    }

    @Test func writerRejectsInconsistentEntries() throws {
        let wrongSize = SafetensorsEntry(name: "w", dtype: .f32, shape: [3], bytes: Data(count: 8))
        #expect(
            throws: SafetensorsError.invalidTensor(
                tensor: "w", reason: "8 bytes but F32 [3] needs 12")
        ) {
            try SafetensorsWriter.encode([wrongSize])
        }
        let twice = SafetensorsEntry(name: "x", shape: [1], floats: [1])
        #expect(throws: SafetensorsError.duplicateTensorName(tensor: "x")) {
            try SafetensorsWriter.encode([twice, twice])
        }
    }

    @Test func writesAndMapsFileAtomically() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("model.safetensors")
        let tensor = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        try SafetensorsWriter.write(
            [SafetensorsEntry(name: "w", tensor: tensor)], metadata: ["step": "3"], to: url)
        #expect(try directory.contents() == ["model.safetensors"])
        let file = try SafetensorsFile(url: url)
        #expect(file.fileName == "model.safetensors")
        #expect(try file.tensor("w").toArray() == tensor.toArray())
        #expect(file.metadata["step"] == "3")
    }

    /// An MLX-style file: 3-byte JSON padding is absent, so F32 data starts at an odd offset.
    @Test func readsUnpaddedHeaderWithMisalignedData() throws {
        let json = #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#
        #expect((8 + json.utf8.count) % 4 != 0)
        var data = safetensorsBytes(json: json, dataBytes: 0)
        for value: Float in [1.5, -2, 1e10] {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        let file = try SafetensorsFile(data: data)
        #expect(try file.floats("x") == [1.5, -2, 1e10])
    }

    @Test func halfFloatConversionsHandleSpecialValues() {
        let specials: [Float] = [.infinity, -.infinity, 0, -0.0, 0x1.0p-14, 0x1.0p-24, 0.375]
        for value in specials {
            #expect(HalfFloat.float(float16Bits: HalfFloat.float16Bits(value)) == value)
            #expect(HalfFloat.float(bfloat16Bits: HalfFloat.bfloat16Bits(value)) == value)
        }
        #expect(HalfFloat.float(float16Bits: HalfFloat.float16Bits(65504)) == 65504)
        #expect(HalfFloat.float(float16Bits: HalfFloat.float16Bits(.nan)).isNaN)
        #expect(HalfFloat.float(bfloat16Bits: HalfFloat.bfloat16Bits(.nan)).isNaN)
        #expect(HalfFloat.float(float16Bits: HalfFloat.float16Bits(1e6)) == .infinity)
        // Round to nearest even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 in f16.
        #expect(HalfFloat.float(float16Bits: HalfFloat.float16Bits(1 + 0x1.0p-11)) == 1)
        #expect(HalfFloat.float(bfloat16Bits: HalfFloat.bfloat16Bits(1 + 0x1.0p-8)) == 1)
        // Every f16 bit pattern that is not NaN survives a round trip through Float.
        let mismatches = (UInt16.min...UInt16.max).filter { bits in
            let isNaN = (bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0
            return !isNaN && HalfFloat.float16Bits(HalfFloat.float(float16Bits: bits)) != bits
        }
        #expect(mismatches.isEmpty)
    }
}
