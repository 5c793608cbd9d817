import Foundation

extension JSONEncoder {
    /// An encoder of indented JSON with sorted keys (stable diffs), the form of the JSON files
    /// this package writes; `escapingSlashes: false` leaves the `/` of paths unescaped.
    public static func sortedPretty(escapingSlashes: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            escapingSlashes
            ? [.prettyPrinted, .sortedKeys]
            : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension AtomicFile {
    /// Writes `value` to `url` atomically as indented, key-sorted JSON
    /// (`JSONEncoder.sortedPretty()`).
    public static func writeJSON(_ value: some Encodable, to url: URL) throws {
        try write(JSONEncoder.sortedPretty().encode(value), to: url)
    }
}
