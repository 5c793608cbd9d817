import Foundation

/// A fresh empty directory under the system temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-core-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

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
