import Foundation
import HSATestSupport

/// A safetensors file built by hand: `headerLength` (default: the JSON's byte count), the JSON
/// text, then `dataBytes` bytes of data.
func safetensorsBytes(json: String, dataBytes: Int, headerLength: UInt64? = nil) -> Data {
    let header = Array(json.utf8)
    var data = Data()
    withUnsafeBytes(of: (headerLength ?? UInt64(header.count)).littleEndian) {
        data.append(contentsOf: $0)
    }
    data.append(contentsOf: header)
    data.append(Data(repeating: 0, count: dataBytes))
    return data
}
