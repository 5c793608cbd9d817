import Testing

@testable import HSAServer

/// Stop strings across streamed pieces.
@Suite("Stop strings")
struct StopMatcherTests {
    @Test("Text is released once no stop string can start in it, and cut at the first stop")
    func releaseAndCut() {
        var matcher = StopMatcher(stops: ["END", "xyz"])
        #expect(matcher.feed("abc") == "abc")
        #expect(matcher.feed("dE") == "d")  // "E" may start "END"
        #expect(matcher.feed("x") == "E")  // "Ex" is no start of END; "x" may start xyz
        #expect(matcher.feed("yq") == "xyq")
        #expect(matcher.feed("1EN") == "1")
        #expect(matcher.feed("D and more") == "")
        #expect(matcher.stopped)
        #expect(matcher.feed("later") == "")
        #expect(matcher.finish() == "")
    }

    @Test("Held text comes out at the end when no stop completes")
    func finishReleasesHeld() {
        var matcher = StopMatcher(stops: ["\n\n"])
        #expect(matcher.feed("line\n") == "line")
        #expect(!matcher.stopped)
        #expect(matcher.finish() == "\n")
        var none = StopMatcher(stops: [])
        #expect(none.feed("all of it") == "all of it")
    }
}
