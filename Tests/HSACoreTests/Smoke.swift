import Testing

@Test func HSACoreTestsBuilds() { #expect(Bool(true)) }
