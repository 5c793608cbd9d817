import Foundation
import HSA

/// Checks that `path`, given with `option`, is an existing regular file (or `-`, stdin),
/// before anything opens it: a directory would otherwise fail deep inside Foundation.
func requireInputFile(_ path: String, option: String) throws {
    guard path != "-" else { return }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw UserError("\(option) \(path): no such file")
    }
    if isDirectory.boolValue {
        throw UserError("\(option) \(path): is a directory; give a file ('-' for stdin)")
    }
}

/// The contents of `path`, or an error naming it.
func readFile(_ path: String) throws -> Foundation.Data {
    do { return try Foundation.Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw UserError("\(path): cannot read (\(fileErrorReason(error)))")
    }
}

/// Checks that `path`, given with `option`, is a directory or does not exist yet (it will be
/// created): `/dev/null` or a file there would otherwise fail as "file exists".
func requireOutputDirectory(_ path: String, option: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
        !isDirectory.boolValue
    {
        throw UserError("\(option) \(path): is not a directory; give a directory to write into")
    }
}

/// The bytes of a `--prompt-file` (`-`: stdin), refused past `limit` bytes before more is
/// read: an endless stdin must not grow memory without bound (long inputs belong to
/// `hsa complete` or `hsa memory build`, which stream).
func readPromptFile(_ path: String, limit: Int = 1 << 26) throws -> Data {
    try requireInputFile(path, option: "--prompt-file")
    let tooLong = UserError(
        "--prompt-file \(path == "-" ? "(stdin)" : path): longer than \(limit) bytes; hint: "
            + "stream long inputs with `hsa complete` or `hsa memory build`")
    guard path == "-" else {
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber
        if let size, size.intValue > limit { throw tooLong }
        return try readFile(path)
    }
    var data = Data()
    while let block = try FileHandle.standardInput.read(upToCount: 1 << 20), !block.isEmpty {
        data.append(block)
        if data.count > limit { throw tooLong }
    }
    return data
}
