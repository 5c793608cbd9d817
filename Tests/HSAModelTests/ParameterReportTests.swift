import HSACore
import HSAModel
import Testing

/// The parameter table `hsa inspect` prints.
@Suite struct ParameterReportTests {
    @Test func componentsThenTheTotalPaddedToTheLongestName() {
        let layout = ParameterLayout(config: .tiny)
        let table = layout.componentTable
        #expect(table.count == layout.componentCounts.count + 1)
        #expect(table.first == "embed        8.3K")
        #expect(table.contains("upper.0.hsa  3.1K"))
        #expect(table.last == "total        49.9K")
        #expect(ParameterLayout(config: .small).componentTable.last == "total        8.17M")
    }

    @Test func everyTensorWithItsShape() {
        let layout = ParameterLayout(config: .tiny)
        #expect(layout.tensorLines.count == layout.specs.count)
        #expect(layout.tensorLines.first == "embed.weight [259, 32]")
    }
}
