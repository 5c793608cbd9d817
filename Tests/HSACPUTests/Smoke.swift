import Testing

@Test func HSACPUTestsBuilds() { #expect(Bool(true)) }
