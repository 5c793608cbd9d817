import HSAData
import Testing

/// Token ids as `hsa tokenizer encode` prints them and `decode` reads them.
@Suite struct TokenIDTextTests {
    @Test func formatsAsAJSONArrayOrSpaceSeparated() {
        #expect(TokenIDText.format([72, 105, 256], json: true) == "[72,105,256]")
        #expect(TokenIDText.format([72, 105, 256], json: false) == "72 105 256")
        #expect(TokenIDText.format([], json: true) == "[]")
    }

    @Test func parsesBothFormsAndNamesABadField() throws {
        #expect(try TokenIDText.parse("[72, 105,\n256]", source: "f") == [72, 105, 256])
        #expect(try TokenIDText.parse(" 1\t2 3\n", source: "f") == [1, 2, 3])
        #expect(try TokenIDText.parse("", source: "f") == [])
        do {
            _ = try TokenIDText.parse("1 2 three 4", source: "ids.txt")
            Issue.record("a word parsed as a token id")
        } catch let error as TokenizerError {
            #expect("\(error)" == #"ids.txt: "three" is not a token id"#)
        }
        let long = String(repeating: "9", count: 30)
        #expect(throws: TokenizerError.self) { try TokenIDText.parse(long, source: "f") }
    }
}
