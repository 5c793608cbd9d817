import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Writer

/// Appends one JSON object per line to a file (a training log, an evaluation report), writing
/// each line straight to the file descriptor so a crash or a `tail -f` never misses a line.
/// The file is opened with `O_APPEND`: every line lands at the file's end at the time of its
/// write, so two writers of one file (two evaluations of the same cell) add lines instead of
/// overwriting each other's.
///
/// Keys are sorted. Non-finite numbers (a NaN loss) are written as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"`, since JSON has no spelling for them. Thread-safe.
public final class JSONLinesWriter: @unchecked Sendable {
    /// The file being written.
    public let url: URL
    private let handle: FileHandle
    private let lock = NSLock()
    private let encoder: JSONEncoder

    /// Opens `url` for appending (creating it), or truncates it first when `append` is false.
    /// A symbolic link at `url` is refused (`O_NOFOLLOW`): lines are never appended through a
    /// link to a file elsewhere.
    public init(url: URL, append: Bool = true) throws {
        try JSONLines.refuseSymbolicLink(url)
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | (append ? 0 : O_TRUNC)
        let descriptor = open(url.path, flags, 0o644)
        guard descriptor >= 0 else {
            // A link created between the check and the open still fails here, with ELOOP.
            if errno == ELOOP { throw JSONLinesError.symbolicLink(path: url.path) }
            throw JSONLinesError.cannotOpen(path: url.path)
        }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        self.url = url
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    }

    deinit { try? handle.close() }

    /// Appends `value` encoded as one line.
    public func write<Value: Encodable>(_ value: Value) throws {
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw JSONLinesError.cannotEncode(reason: "\(error)")
        }
        try writeLine(data)
    }

    /// Appends a dictionary of JSON-compatible values (String, numbers, Bool, arrays and
    /// dictionaries of these, NSNull) as one line.
    public func write(dictionary: [String: Any]) throws {
        let sanitized = JSONLines.replacingNonFiniteNumbers(dictionary)
        // Checked first: JSONSerialization raises an uncatchable exception on invalid input.
        guard JSONSerialization.isValidJSONObject(sanitized) else {
            throw JSONLinesError.cannotEncode(reason: "not a JSON-compatible dictionary")
        }
        let data: Data
        do {
            data = try JSONSerialization.data(
                withJSONObject: sanitized, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw JSONLinesError.cannotEncode(reason: "\(error)")
        }
        try writeLine(data)
    }

    private func writeLine(_ json: Data) throws {
        var line = json
        line.append(UInt8(ascii: "\n"))
        lock.lock()
        defer { lock.unlock() }
        do {
            // FileHandle writes go straight to the descriptor: nothing is left buffered.
            try handle.write(contentsOf: line)
        } catch {
            throw JSONLinesError.writeFailed(path: url.path, reason: "\(error)")
        }
    }
}

// MARK: - Reader

/// Reading JSON Lines files.
public enum JSONLines {
    /// Every line of `url` as a dictionary. Blank lines are skipped, and so is an unparsable
    /// last line without a newline (a write cut short by a crash).
    public static func read(_ url: URL) throws -> [[String: Any]] {
        try lines(url).compactMap { number, line, isLast in
            let object = try? JSONSerialization.jsonObject(with: line)
            guard let dictionary = object as? [String: Any] else {
                if isLast { return nil }
                throw JSONLinesError.invalidLine(path: url.path, line: number)
            }
            return dictionary
        }
    }

    /// Every line of `url` decoded as `Value` (non-finite numbers as written by the writer).
    public static func read<Value: Decodable>(_ type: Value.Type, from url: URL) throws -> [Value] {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try lines(url).compactMap { number, line, isLast in
            do {
                return try decoder.decode(Value.self, from: line)
            } catch {
                if isLast, (try? JSONSerialization.jsonObject(with: line)) == nil { return nil }
                throw JSONLinesError.invalidLine(path: url.path, line: number)
            }
        }
    }

    /// Throws ``JSONLinesError/symbolicLink(path:)`` when `url` itself (not a directory above
    /// it) is a symbolic link, dangling or not (`lstat`, which does not follow it).
    public static func refuseSymbolicLink(_ url: URL) throws {
        var status = stat()
        guard lstat(url.path, &status) == 0 else { return }  // Absent: nothing to follow.
        if (status.st_mode & S_IFMT) == S_IFLNK {
            throw JSONLinesError.symbolicLink(path: url.path)
        }
    }

    /// Non-blank lines as (1-based line number, bytes, is an unterminated last line).
    private static func lines(_ url: URL) throws -> [(Int, Data, Bool)] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw JSONLinesError.cannotOpen(path: url.path)
        }
        var result: [(Int, Data, Bool)] = []
        var start = data.startIndex
        var number = 0
        while start < data.endIndex {
            number += 1
            let newline = data[start...].firstIndex(of: UInt8(ascii: "\n"))
            let end = newline ?? data.endIndex
            let line = data[start..<end]
            if line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                result.append((number, Data(line), newline == nil))
            }
            start = newline.map { $0 + 1 } ?? data.endIndex
        }
        return result
    }

    /// `value` with every non-finite Double/Float replaced by "NaN", "Infinity" or "-Infinity".
    static func replacingNonFiniteNumbers(_ value: Any) -> Any {
        switch value {
        case let dictionary as [String: Any]:
            return dictionary.mapValues { replacingNonFiniteNumbers($0) }
        case let array as [Any]:
            return array.map { replacingNonFiniteNumbers($0) }
        case let number as Double where !number.isFinite:
            return nonFiniteName(number)
        case let number as Float where !number.isFinite:
            return nonFiniteName(Double(number))
        default:
            return value
        }
    }

    private static func nonFiniteName(_ value: Double) -> String {
        value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity")
    }
}

// MARK: - Errors

/// Failures reading or writing JSON Lines files.
public enum JSONLinesError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or created.
    case cannotOpen(path: String)
    /// A value could not be encoded as JSON.
    case cannotEncode(reason: String)
    /// Appending to the file failed.
    case writeFailed(path: String, reason: String)
    /// A line is not a JSON object of the expected form.
    case invalidLine(path: String, line: Int)
    /// The file is a symbolic link, which is neither read nor written through.
    case symbolicLink(path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path):
            return "cannot open \(path); hint: does the directory exist and is it writable?"
        case .cannotEncode(let reason):
            return "cannot encode a JSON line: \(reason)"
        case .writeFailed(let path, let reason):
            return "cannot append to \(path): \(reason)"
        case .invalidLine(let path, let line):
            return "\(path):\(line): not a valid JSON object of the expected form"
        case .symbolicLink(let path):
            return "\(path): is a symbolic link; refusing to read or append through it; hint: "
                + "remove the link or choose another --out"
        }
    }
}
