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

    /// The default prompt limit is the largest prompt `check` accepts for the same store.
    @Test func largestPromptIsTheLargestThatPassesTheCheck() throws {
        let directory = FileManager.default.temporaryDirectory
        for (storage, memory, disk) in [
            (KVStorage.ram, 1 << 30, 0), (.disk(directory: directory), 1 << 34, 1 << 30),
            (.disk(directory: directory), 1 << 24, 1 << 40),
        ] {
            let tokens = MemoryPlan.largestPrompt(
                config: .small, precision: .fp32, storage: storage, availableMemory: memory,
                availableDisk: disk)
            try MemoryPlan(config: .small, tokens: tokens, precision: .fp32).check(
                storage: storage, availableMemory: memory, availableDisk: disk)
            let oneChunkMore = MemoryPlan(
                config: .small, tokens: tokens + 1, precision: .fp32)
            #expect(throws: InferenceError.self, "\(storage)") {
                try oneChunkMore.check(
                    storage: storage, availableMemory: memory, availableDisk: disk)
            }
        }
        // 1 GiB of RAM for 32 KiB (keys/values) + 1 KiB (landmark) per 64-token chunk.
        #expect(
            MemoryPlan.largestPrompt(
                config: .small, precision: .fp32, storage: .ram, availableMemory: 1 << 30)
                == (1 << 30) / (32768 + 1024) * 64 + 63)
        var swa = ModelConfig.small
        swa.attention = .swa
        #expect(
            MemoryPlan.largestPrompt(
                config: swa, precision: .fp32, storage: .ram, cap: 1000, availableMemory: 0)
                == 1000)
    }
}
