import Foundation
import HSA
import HSATestSupport
import Testing

/// Generated bad `trainer_state.json` files in the newest checkpoint of a real run (seeded, so
/// every run tries the same cases): resuming must refuse each with one error that starts with
/// the file's path, never a trap (docs/RELIABILITY.md, "The bad-input corpus").
@Suite struct BadInputCorpusTests {
    /// Generated trainer-state cases (docs/RELIABILITY.md counts them).
    static let caseCount = 150

    /// One change to the state `json` (after `steps` steps) that no resume may accept.
    static func corrupt(_ json: [String: Any], steps: Int, _ rng: inout SplitMix64) -> Any {
        var json = json
        func pick(_ values: [Any]) -> Any { values.randomElement(using: &rng)! }
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:  // A step that is negative or not an integer.
            json["step"] = pick([-1, Int.min, "3", 1.5, NSNull(), [3]])
        case 1:
            json["tokens_seen"] = pick([-1, -Int.random(in: 2...1 << 40, using: &rng), "many"])
        case 2:  // More skipped steps than steps, or fewer than none.
            json["skipped_steps"] = pick([steps + Int.random(in: 1...99, using: &rng), -1, "0"])
        case 3:  // A data cursor that is not base64, not the loader's JSON, or outside the data.
            json["data_state"] = pick([
                "%%% not base64 %%%", 42, base64("not json"), base64("{}"),
                base64(#"{"seed":1,"epoch":-1,"cursor":0}"#),
                base64(
                    #"{"seed":1,"epoch":0,"cursor":\#(Int.random(in: 1 << 20...1 << 40, using: &rng))}"#
                ),
                base64(#"{"seed":1,"epoch":0,"cursor":-5}"#),
            ])
        case 4:  // A required field missing.
            json.removeValue(
                forKey: pick(["step", "data_state", "tokens_seen", "options"]) as! String)
        case 5:  // Options that are not an object, or an option of the wrong type.
            if Bool.random(using: &rng) {
                json["options"] = pick(["fast", 7, [1, 2]])
            } else {
                var options = json["options"] as! [String: Any]
                let key = options.keys.sorted().randomElement(using: &rng)!
                options[key] = pick([[String: Any](), [Any](), "x?"])
                json["options"] = options
            }
        default:  // The whole file replaced by another JSON value.
            return pick([[1, 2, 3], "state", 5, NSNull()])
        }
        return json
    }

    @Test func generatedTrainerStatesAreRefusedNamingTheFile() throws {
        let data = try ResumeTests.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        try ResumeTests.trainer(data: data, run: run).run(stopAfter: 3) { _ in }
        let file = run.appendingPathComponent("checkpoints/step-00000003/trainer_state.json")
        let valid = try Data(contentsOf: file)
        let json = try #require(try JSONSerialization.jsonObject(with: valid) as? [String: Any])
        var rng = SplitMix64(seed: 20_261_208)
        for number in 0..<Self.caseCount {
            let bad =
                number % 25 == 0
                ? valid.prefix(Int.random(in: 0..<valid.count, using: &rng))  // cut short
                : try JSONSerialization.data(
                    withJSONObject: Self.corrupt(json, steps: 3, &rng), options: .fragmentsAllowed)
            try bad.write(to: file)
            do {
                try ResumeTests.trainer(data: data, run: run).resumeFromLatestCheckpoint()
                Issue.record("case \(number) accepted: \(String(decoding: bad, as: UTF8.self))")
            } catch {
                #expect("\(error)".hasPrefix(file.path), "case \(number): \(error)")
            }
        }
        try valid.write(to: file)
        #expect(try ResumeTests.trainer(data: data, run: run).resumeFromLatestCheckpoint() == 3)
    }
}
