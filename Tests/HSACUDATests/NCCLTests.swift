import Foundation
import HSA
import Testing

/// NCCL loading and the unique-id rendezvous (every machine), and a one-rank communicator on
/// a GPU with NCCL (skipped elsewhere).
@Suite struct NCCLTests {
    @Test func searchListHonoursTheOverride() {
        let list = DynamicLibrary.searchList(
            environmentKey: "HSA_NCCL_LIBRARY", baseName: "libnccl.so", versions: ["2"],
            environment: ["HSA_NCCL_LIBRARY": "/site-packages/nvidia/nccl/lib/libnccl.so.2"])
        #expect(
            Array(list.prefix(3)) == [
                "/site-packages/nvidia/nccl/lib/libnccl.so.2", "libnccl.so", "libnccl.so.2",
            ])
    }

    @Test func uniqueIDRoundTripsThroughItsFile() throws {
        let bytes = (0..<128).map { UInt8(($0 * 37 + 11) % 256) }
        let id = try NCCLUniqueID(bytes: bytes)
        #expect(id.hex.count == 256)
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-nccl-id-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try id.write(to: url)
        #expect(try NCCLUniqueID.wait(for: url, timeout: 1, launcherPID: nil) == id)
        #expect(throws: NCCLError.self) { try NCCLUniqueID(hex: "abc") }
        #expect(throws: NCCLError.self) { try NCCLUniqueID(bytes: [1, 2]) }
    }

    @Test func missingIDFileTimesOutWithAHint() {
        let url = URL(fileURLWithPath: "/nonexistent/hsa-nccl-id")
        do {
            _ = try NCCLUniqueID.wait(for: url, timeout: 0.1, launcherPID: nil)
            Issue.record("expected a timeout")
        } catch {
            #expect("\(error)".contains("rank 0 did not write"))
        }
    }

    @Test(.enabled(if: CUDA.isAvailable && NCCL.unavailableReason == nil))
    func oneRankAllReduceKeepsValues() throws {
        let backend = try CUDAManagedBackend(device: CUDADevice(), fallback: CPUBackend.shared)
        let id = try NCCLUniqueID.generate(NCCL.library())
        let communicator = try NCCLCommunicator(
            backend: backend, rank: 0, worldSize: 1, uniqueID: id, timeout: 60,
            launcherPID: nil)
        let values = backend.allocate(count: 5)
        defer { backend.free(values, count: 5) }
        backend.synchronize()
        for i in 0..<5 { values[i] = Float(i) + 0.5 }
        try communicator.allReduceSum(values, count: 5)
        try communicator.waitForReductions()
        #expect((0..<5).map { values[$0] } == [0.5, 1.5, 2.5, 3.5, 4.5])
        #expect(try communicator.allReduceSum([1, 2.5]) == [1, 2.5])
        communicator.abort()
    }
}
