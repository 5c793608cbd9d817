import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

/// The fp32 Landmark Attention kernels against the PyTorch twin's fixture
/// (reference/make_landmark_fixture.py: float32 inputs, float64 vectorised grouped softmax and
/// autograd): output, log-sum-exp, dq, dk, dv, and one retrieval step.
@Suite struct LandmarkGoldenTests {
    static let fixtureURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/landmark-golden.safetensors")

    @Test func matchesPyTorchTwin() throws {
        let file = try SafetensorsFile(url: Self.fixtureURL)
        func doubles(_ name: String) throws -> [Double] { try file.floats(name).map(Double.init) }
        let qShape = try file.info("inputs.q").shape
        let kShape = try file.info("inputs.k").shape
        try #require(qShape.count == 4 && kShape.count == 4)
        let sizesJSON = try #require(file.metadata["sizes"])
        let sizes = try JSONDecoder().decode([String: Int].self, from: Data(sizesJSON.utf8))
        let shape = LandmarkAttentionShape(
            batch: qShape[0], sequenceLength: qShape[1], heads: qShape[2], kvHeads: kShape[2],
            headDim: qShape[3], blockSize: try #require(sizes["S"]))
        let run = runLandmark(
            q: try doubles("inputs.q"), k: try doubles("inputs.k"), v: try doubles("inputs.v"),
            shape: shape, dOut: try doubles("cotangents.dout"))

        // fp32 kernels vs float64 rounded to float32 (the oracle test's tolerance).
        let (atol, rtol) = LandmarkAttentionTests.tolerance
        expectClose(run.out, try doubles("outputs.out"), atol: atol, rtol: rtol, "out")
        expectClose(run.logSumExp, try doubles("outputs.lse"), atol: atol, rtol: rtol, "lse")
        for (name, actual) in [("q", run.dq), ("k", run.dk), ("v", run.dv)] {
            let expected = try doubles("grads.\(name)")
            expectClose(actual, expected, atol: atol, rtol: rtol, "grads.\(name)")
            #expect(expected.contains { abs($0) > 0.1 }, "grads.\(name) is all but zero")
        }

        let keysShape = try file.info("retrieval.landmark_keys").shape
        let indices = try file.int32s("retrieval.indices")
        let retrieval = LandmarkRetrievalShape(
            heads: shape.heads, kvHeads: shape.kvHeads, headDim: shape.headDim,
            blockCount: keysShape[0], topK: indices.count / shape.heads)
        let step = runLandmarkRetrieval(
            query: try doubles("retrieval.query"),
            landmarkKeys: try doubles("retrieval.landmark_keys"), shape: retrieval)
        expectClose(step.scores, try doubles("retrieval.scores"), "retrieval.scores")
        #expect(step.indices == indices)
    }
}
