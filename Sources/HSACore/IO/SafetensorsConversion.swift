import Foundation

/// Conversions between raw (possibly unaligned) little-endian tensor bytes and Swift arrays.
enum SafetensorsConversion {
    // MARK: - Reading

    /// Converts `raw` holding F32, F16, BF16 or F64 elements into `out` (count elements).
    /// Other dtypes leave `out` untouched; callers check `isFloatConvertible` first.
    static func toFloats(
        _ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        guard let source = raw.baseAddress, let target = out.baseAddress else { return }
        let count = out.count
        switch dtype {
        case .f32:
            for i in 0..<count {
                target[i] = Float(bitPattern: source.littleEndian(UInt32.self, at: i))
            }
        case .f16:
            for i in 0..<count {
                target[i] = HalfFloat.float(float16Bits: source.littleEndian(UInt16.self, at: i))
            }
        case .bf16:
            for i in 0..<count {
                target[i] = HalfFloat.float(bfloat16Bits: source.littleEndian(UInt16.self, at: i))
            }
        case .f64:
            for i in 0..<count {
                target[i] = Float(Double(bitPattern: source.littleEndian(UInt64.self, at: i)))
            }
        default:
            return
        }
    }

    /// Converts integer-typed `raw` into `Int32`, or nil when the dtype is not an integer type
    /// or a value does not fit.
    static func toInt32s(_ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int)
        -> [Int32]?
    {
        var result = [Int32](repeating: 0, count: count)
        guard count > 0, let source = raw.baseAddress else {
            return isInteger(dtype) ? result : nil
        }
        for i in 0..<count {
            let wide: Int64
            switch dtype {
            case .i32: wide = Int64(source.littleEndian(Int32.self, at: i))
            case .u32: wide = Int64(source.littleEndian(UInt32.self, at: i))
            case .i64: wide = source.littleEndian(Int64.self, at: i)
            case .u64:
                let value = source.littleEndian(UInt64.self, at: i)
                guard value <= UInt64(Int32.max) else { return nil }
                wide = Int64(value)
            case .i16: wide = Int64(source.littleEndian(Int16.self, at: i))
            case .u16: wide = Int64(source.littleEndian(UInt16.self, at: i))
            case .i8:
                wide = Int64(source.load(fromByteOffset: i, as: Int8.self))
            case .u8, .bool:
                wide = Int64(source.load(fromByteOffset: i, as: UInt8.self))
            default:
                return nil
            }
            guard let narrow = Int32(exactly: wide) else { return nil }
            result[i] = narrow
        }
        return result
    }

    private static func isInteger(_ dtype: SafetensorsDType) -> Bool {
        switch dtype {
        case .i32, .u32, .i64, .u64, .i16, .u16, .i8, .u8, .bool: return true
        default: return false
        }
    }

    // MARK: - Writing

    /// Little-endian F32 bytes of `values`.
    static func float32Bytes(_ values: [Float]) -> Data {
        var data = Data(count: values.count * 4)
        data.withUnsafeMutableBytes { out in
            for (i, value) in values.enumerated() {
                out.storeBytes(
                    of: value.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
        return data
    }

    /// Little-endian BF16 bytes of `values` (rounded to nearest even).
    static func bfloat16Bytes(_ values: [Float]) -> Data {
        halfBytes(values, HalfFloat.bfloat16Bits)
    }

    /// Little-endian F16 bytes of `values` (rounded to nearest even).
    static func float16Bytes(_ values: [Float]) -> Data {
        halfBytes(values, HalfFloat.float16Bits)
    }

    private static func halfBytes(_ values: [Float], _ convert: (Float) -> UInt16) -> Data {
        var data = Data(count: values.count * 2)
        data.withUnsafeMutableBytes { out in
            for (i, value) in values.enumerated() {
                out.storeBytes(
                    of: convert(value).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        }
        return data
    }

    /// Little-endian I32 bytes of `values`.
    static func int32Bytes(_ values: [Int32]) -> Data {
        var data = Data(count: values.count * 4)
        data.withUnsafeMutableBytes { out in
            for (i, value) in values.enumerated() {
                out.storeBytes(of: value.littleEndian, toByteOffset: 4 * i, as: Int32.self)
            }
        }
        return data
    }
}
