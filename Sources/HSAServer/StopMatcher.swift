/// Cuts generated text at the first stop string, releasing text as soon as no stop string can
/// begin in it: streamed pieces never show the start of a stop string that later completes.
struct StopMatcher {
    let stops: [String]
    /// Text received but held back: it may be the start of a stop string.
    private var held = ""
    /// Whether a stop string was found (everything after it is dropped).
    private(set) var stopped = false

    init(stops: [String]) { self.stops = stops }

    /// Takes the next piece of text; returns what can be released now.
    mutating func feed(_ piece: String) -> String {
        guard !stopped else { return "" }
        held += piece
        let found = stops.compactMap { held.range(of: $0) }.min { $0.lowerBound < $1.lowerBound }
        if let found {
            stopped = true
            defer { held = "" }
            return String(held[..<found.lowerBound])
        }
        // Hold the longest tail that is a proper prefix of some stop string.
        var keep = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, held.count), to: 0, by: -1)
            where held.hasSuffix(stop.prefix(length)) {
                keep = max(keep, length)
                break
            }
        }
        let release = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return release
    }

    /// What is still held back once the text ends (no stop string can complete any more).
    mutating func finish() -> String {
        defer { held = "" }
        return stopped ? "" : held
    }
}
