import Testing

@Test func HSATrainTestsBuilds() { #expect(Bool(true)) }
