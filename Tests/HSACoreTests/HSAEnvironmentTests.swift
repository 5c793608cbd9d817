import Foundation
import HSACore
import Testing

@Suite struct HSAEnvironmentTests {
    /// docs/ENVIRONMENT.md has one row per variable, with its summary, and no other.
    @Test func theDocsTableListsEveryVariable() throws {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/ENVIRONMENT.md")
        let rows = try String(contentsOf: docs, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix("| `HSA_") }.map(String.init)
        let expected = HSAEnvironment.allCases.map { "| `\($0.rawValue)` | \($0.summary) |" }
        #expect(rows == expected)
    }
}
