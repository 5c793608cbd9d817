import Foundation
import HSA
import HSATestSupport
import Testing

/// An evaluation directory resumes only results of the same model and texts.
@Suite struct EvalSetupTests {
    let setup = EvalSetup(
        model: nil, referenceModel: "needle-search",
        settings: ["texts": "essays=a book=b words=c", "seed": "0"])

    @Test func theSameSetupResumesAnotherIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try setup.claim(directory: directory.url)
        try setup.claim(directory: directory.url)  // the same: resumes
        var otherTexts = setup
        otherTexts.settings["texts"] = "essays=d book=b words=c"
        #expect(
            throws: EvalError.otherEvaluation(
                path: directory.url.path, what: "texts", recorded: "essays=a book=b words=c",
                now: "essays=d book=b words=c")
        ) { try otherTexts.claim(directory: directory.url) }
        var otherModel = setup
        otherModel.referenceModel = "wrong"
        #expect(throws: EvalError.self) { try otherModel.claim(directory: directory.url) }
        var newSetting = setup
        newSetting.settings["yarn_factor"] = "4.0"
        #expect(newSetting.difference(from: setup)?.what == "yarn_factor")
    }
}
