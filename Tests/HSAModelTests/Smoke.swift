import Testing

@Test func HSAModelTestsBuilds() { #expect(Bool(true)) }
