import Foundation
import HSA
import Testing

/// `hsa bpb`'s measurement: every document read once at each position it reaches, the repeat
/// probe only when distances are given, and the tables printed from the reports.
@Suite struct BitsPerByteStudyTests {
    static let model = LanguageModel(config: .tiny, seed: 5)

    @Test func measuresEachDocumentAtThePositionsItReaches() throws {
        let long = String(repeating: "a long document about nothing. ", count: 6)
        let study = BitsPerByteStudy(
            model: Self.model, tokenizer: ByteTokenizer(), positions: [4, 64, 400], window: 8,
            repeatDistances: [16])
        var lines: [String] = []
        let reports = try study.measure(
            documents: [("long", long), ("short", "tiny text, no more.")], modelName: "m/tiny"
        ) { lines.append($0) }
        #expect(
            lines == [
                "long: \(long.utf8.count + 1) tokens, 2 positions",
                "short: 20 tokens, 1 positions",
            ])
        #expect(reports.positions.documents["long"]?.map(\.position) == [4, 64])
        #expect(reports.positions.mean.map(\.tokens) == [16, 8])
        let direct = try PositionLoss.measure(
            session: StreamingSession(model: Self.model),
            tokens: [256] + ByteTokenizer().encode(long), positions: [4, 64], window: 8)
        #expect(reports.positions.documents["long"] == direct)
        let repeats = try #require(reports.repeats)
        #expect(repeats.mean.map(\.distance) == [16])
        #expect(repeats.documents["short"] == [])

        let table = reports.positions.tableLines
        #expect(table.first == "position  tokens  bits/byte")
        #expect(
            table[1]
                == String(format: "%8d  %6d  %.4f", 4, 16, reports.positions.mean[0].bitsPerByte))
        #expect(repeats.tableLines.count == 2)
        #expect(repeats.tableLines[1].hasPrefix("                    16  "))
    }

    @Test func noDistancesNoRepeatProbe() throws {
        let study = BitsPerByteStudy(
            model: Self.model, tokenizer: ByteTokenizer(), positions: [2], window: 4,
            repeatDistances: [])
        let reports = try study.measure(
            documents: [("d", "some text to read")], modelName: "m", progress: { _ in })
        #expect(reports.repeats == nil)
        #expect(reports.positions.mean.count == 1)
    }
}
