/// The server's API key, checked against `Authorization: Bearer <key>` headers.
struct APIKey: Sendable {
    private let expected: [UInt8]

    init(_ key: String) { expected = Array(key.utf8) }

    /// Whether `header` (the Authorization header's value, nil when absent) carries the key.
    /// The comparison takes the same time wherever the first difference is (it depends only on
    /// the key's length), so response times do not reveal how much of a guess was right.
    func accepts(authorization header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.utf8.dropFirst("Bearer ".utf8.count))
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
