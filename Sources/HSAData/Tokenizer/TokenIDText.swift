import Foundation

/// Token ids as text: what `hsa tokenizer encode` prints and `hsa tokenizer decode` reads, a
/// JSON array or ids separated by spaces.
public enum TokenIDText {
    /// `ids` as `[1,2,3]` when `json`, else as `1 2 3`.
    public static func format(_ ids: [Int32], json: Bool) -> String {
        let fields = ids.map(String.init)
        return json ? "[" + fields.joined(separator: ",") + "]" : fields.joined(separator: " ")
    }

    /// The ids in `text`, separated by any of `[`, `]`, `,` and white space.
    /// - Throws: ``TokenizerError/invalidTokenID(source:field:)`` naming `source` and the first
    ///   field that is not an id.
    public static func parse(_ text: String, source: String) throws -> [Int32] {
        let separators = CharacterSet(charactersIn: "[],").union(.whitespacesAndNewlines)
        var ids: [Int32] = []
        for field in text.components(separatedBy: separators) where !field.isEmpty {
            guard let id = Int32(field) else {
                throw TokenizerError.invalidTokenID(source: source, field: String(field.prefix(20)))
            }
            ids.append(id)
        }
        return ids
    }
}
