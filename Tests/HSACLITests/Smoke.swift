import Testing

@Test func HSACLITestsBuilds() { #expect(Bool(true)) }
