import Testing

@Test func HSADataTestsBuilds() { #expect(Bool(true)) }
