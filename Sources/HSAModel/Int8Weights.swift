import Foundation
import HSACore

/// Int8 storage for shipped models (`hsa export --dtype int8`): a quarter of fp32's bytes.
///
/// Every parameter of two or more dimensions is stored as I8 with one F32 scale per row (its
/// first dimension: an embedding's token, a projection's output unit) in `NAME.int8_scale`:
/// value = int8 · scale, scale = max |row| / 127, rounded to nearest. One scale per row keeps
/// a row with small weights from losing its precision to a large one elsewhere in the matrix.
/// Vectors (norm gains) stay BF16: they are few bytes and multiply every activation.
/// Loading dequantizes to fp32, so an int8 model runs wherever the fp32 one does.
public enum Int8Weights {
    /// Suffix of the per-row scale tensor that accompanies an I8 weight.
    public static let scaleSuffix = ".int8_scale"

    /// The entries storing `values` (shape `shape`): I8 + scales for matrices, BF16 otherwise.
    public static func entries(name: String, shape: [Int], values: [Float]) -> [SafetensorsEntry] {
        guard shape.count >= 2, let rows = shape.first, rows > 0 else {
            return [SafetensorsEntry(name: name, shape: shape, floats: values, dtype: .bf16)]
        }
        let columns = values.count / rows
        var quantized = Data(count: values.count)
        var scales = [Float](repeating: 0, count: rows)
        quantized.withUnsafeMutableBytes { raw in
            let out = raw.bindMemory(to: Int8.self)
            for row in 0..<rows {
                let slice = values[(row * columns)..<((row + 1) * columns)]
                let largest = slice.reduce(0) { max($0, abs($1)) }
                let scale = largest > 0 ? largest / 127 : 1
                scales[row] = scale
                for (offset, value) in slice.enumerated() {
                    let level = (value / scale).rounded(.toNearestOrEven)
                    out[row * columns + offset] = Int8(max(-127, min(127, level)))
                }
            }
        }
        return [
            SafetensorsEntry(name: name, dtype: .i8, shape: shape, bytes: quantized),
            SafetensorsEntry(name: name + scaleSuffix, shape: [rows], floats: scales),
        ]
    }

    /// The fp32 values of the I8 tensor `name` in `collection`, scaled by its row scales.
    public static func dequantize(_ name: String, from collection: SafetensorsCollection)
        throws -> [Float]
    {
        let source = collection.fileName(of: name) ?? name
        guard let info = collection.tensors[name], let rows = info.shape.first,
            info.shape.count >= 2,
            let scaleInfo = collection.tensors[name + scaleSuffix], scaleInfo.shape == [rows]
        else {
            throw CheckpointError.invalid(
                file: source,
                reason: "I8 tensor '\(name)' needs a matrix shape and a '\(name + scaleSuffix)' "
                    + "tensor of one scale per row")
        }
        let scales = try collection.floats(name + scaleSuffix)
        let bytes = try collection.bytes(name)
        let columns = bytes.count / max(rows, 1)
        return bytes.withUnsafeBytes { raw in
            let levels = raw.bindMemory(to: Int8.self)
            return (0..<bytes.count).map { Float(levels[$0]) * scales[$0 / columns] }
        }
    }
}
