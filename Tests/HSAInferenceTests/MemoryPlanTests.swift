import Foundation
import HSA
import Testing

/// Prompts too large for the machine fail before the prefill, naming what they need.
@Suite struct MemoryPlanTests {
    @Test func estimatesChunkMemoryBytes() {
        let plan = MemoryPlan(config: .small, tokens: 1 << 20, precision: .fp32)
        // 16384 chunks x (2 x 64 x 2 x 32) floats x 4 bytes; landmarks 16384 x 256 floats.
        #expect(plan.keyValueBytes == 16384 * 2 * 64 * 2 * 32 * 4)
        #expect(plan.landmarkBytes == 16384 * 256 * 4)
        let half = MemoryPlan(config: .small, tokens: 1 << 20, precision: .bf16)
        #expect(half.keyValueBytes * 2 == plan.keyValueBytes)
    }

    @Test func choosesDiskWhenRAMIsShort() {
        let plan = MemoryPlan(config: .small, tokens: 1 << 20, precision: .fp32)
        let directory = FileManager.default.temporaryDirectory
        #expect(plan.automaticStorage(diskDirectory: directory, availableMemory: 1 << 34) == .ram)
        #expect(
            plan.automaticStorage(diskDirectory: directory, availableMemory: 1 << 30)
                == .disk(directory: directory))
    }

    @Test func rejectsPromptsThatDoNotFit() throws {
        let plan = MemoryPlan(config: .small, tokens: 32 << 20, precision: .fp32)
        let directory = FileManager.default.temporaryDirectory
        do {
            try plan.check(
                storage: .disk(directory: directory), availableMemory: 1 << 34,
                availableDisk: 1 << 30)
            Issue.record("a 16 GB memory passed a 1 GB disk check")
        } catch let error as InferenceError {
            #expect("\(error)".contains("disk at \(directory.path)"))
            #expect("\(error)".contains("33554432-token prompt"))
        }
        #expect(throws: InferenceError.self) {
            try plan.check(storage: .ram, availableMemory: 1 << 30)
        }
        try plan.check(
            storage: .disk(directory: directory), availableMemory: 1 << 34, availableDisk: 1 << 36)
    }
}
