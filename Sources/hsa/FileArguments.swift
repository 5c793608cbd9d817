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
