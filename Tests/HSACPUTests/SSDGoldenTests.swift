import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

/// The chunked fp32 SSD scan against the PyTorch twin's fixture (reference/make_ssd_fixture.py:
/// float32 inputs, float64 sequential recurrence and autograd): output, final state and the
/// gradient of every input, for several chunk lengths (none divides T = 37).
@Suite struct SSDGoldenTests {
    static let fixtureURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/ssd-golden.safetensors")

    /// The fixture's names for the inputs (`ssdInputPaths` order).
    static let fixtureNames = ["x", "dt", "A", "Bm", "Cm", "D", "initial_state"]

    @Test(arguments: [1, 8, 16, 64])
    func matchesPyTorchTwin(chunkLength: Int) throws {
        let file = try SafetensorsFile(url: Self.fixtureURL)
        func doubles(_ name: String) throws -> [Double] { try file.floats(name).map(Double.init) }
        let xShape = try file.info("inputs.x").shape
        let bShape = try file.info("inputs.Bm").shape
        try #require(xShape.count == 4 && bShape.count == 4)
        let shape = SSDShape(
            batch: xShape[0], sequenceLength: xShape[1], heads: xShape[2], headDim: xShape[3],
            groups: bShape[2], stateDim: bShape[3], chunkLength: chunkLength)
        var values = Oracle.SSDValues(x: [], dt: [], A: [], B: [], C: [], D: [], initialState: [])
        for ((_, path), name) in zip(ssdInputPaths, Self.fixtureNames) {
            values[keyPath: path] = try doubles("inputs.\(name)")
        }
        let run = runSSD(
            values, shape: shape, dOut: try doubles("cotangents.dy"),
            dFinalState: try doubles("cotangents.dfinal_state"))

        // fp32 kernels vs float64 rounded to float32 (the oracle test's tolerance).
        let (atol, rtol) = SSDScanKernelTests.tolerance
        expectClose(run.out, try doubles("outputs.y"), atol: atol, rtol: rtol, "y L=\(chunkLength)")
        expectClose(
            run.finalState, try doubles("outputs.final_state"), atol: atol, rtol: rtol,
            "final_state L=\(chunkLength)")
        for ((_, path), name) in zip(ssdInputPaths, Self.fixtureNames) {
            let expected = try doubles("grads.\(name)")
            expectClose(
                ssdGradient(run, path), expected, atol: atol, rtol: rtol,
                "grads.\(name) L=\(chunkLength)")
            #expect(expected.contains { abs($0) > 0.1 }, "grads.\(name) is all but zero")
        }
    }
}
