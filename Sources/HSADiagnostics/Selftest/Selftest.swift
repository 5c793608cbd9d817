import Foundation
import HSACPU
import HSACUDA
import HSAReport

// `hsa selftest --backend cuda`: every CUDA kernel against its HSACPU twin on seeded random
// inputs with ugly shapes, printed as a table; optionally each kernel timed with events at a
// realistic size. Runs inside the static binary on a GPU machine (DESIGN.md §8).

/// The GPU-vs-CPU parity suite (and optionally kernel timings) on the CUDA backend.
public struct Selftest {
    /// Seed of the random inputs.
    public var seed: UInt64
    /// Also time each kernel at a realistic size (rows 8*4096, C 1024).
    public var timesKernels: Bool
    /// Only the per-kernel checks (skip the managed-memory ops and whole-model runs).
    public var kernelsOnly: Bool

    public init(seed: UInt64, timesKernels: Bool = false, kernelsOnly: Bool = false) {
        self.seed = seed
        self.timesKernels = timesKernels
        self.kernelsOnly = kernelsOnly
    }

    /// Runs every check on GPU 0 and prints the table and a verdict line.
    /// - Returns: false when a check failed; true when all passed, or when there is no usable
    ///   CUDA (the suite is skipped with a line saying why).
    public func run() throws -> Bool {
        guard CUDA.isAvailable else {
            Terminal.printLine(
                "selftest: skipped (no usable CUDA: \(CUDA.unavailableReason ?? "?"))")
            return true
        }
        let device = try CUDADevice()
        let gpu = try CUDABackend(device: device)
        Terminal.printLine("device: \(device.summary), cuBLAS \(gpu.cublasVersion)")
        Terminal.printLine("kernel cache: \(KernelCache.directory().path)")
        let start = Date()
        try gpu.warmUp()
        Terminal.printLine(
            String(format: "kernels ready in %.2f s", Date().timeIntervalSince(start)))
        var suite = ParitySuite(gpu: gpu, seed: seed)
        try suite.runAll()
        if !kernelsOnly {
            let managed = try CUDAManagedBackend(device: device, fallback: CPUBackend.shared)
            suite.managedOps(managed)
            let modelStart = Date()
            try suite.wholeModel(preset: "tiny", base: .tiny, batch: 2, length: 64, gpu: managed)
            try suite.wholeModel(
                preset: "small", base: .small, batch: 1, length: 256, gpu: managed)
            try suite.streamingParity(gpu: managed)
            Terminal.printLine(
                String(
                    format: "model checks in %.1f s; ops on the CPU fallback: %@",
                    Date().timeIntervalSince(modelStart),
                    managed.fallbackCounts.sorted { $0.key < $1.key }
                        .map { "\($0.key) x\($0.value)" }.joined(separator: ", ")))
        }
        suite.printTable()
        if timesKernels {
            let timings = KernelBench(gpu: gpu, device: device)
            try timings.run()
            try timings.sparse()
        }
        let failed = suite.rows.filter { !$0.passed }.count
        Terminal.printLine(
            failed == 0
                ? "selftest: all \(suite.rows.count) checks passed"
                : "selftest: \(failed) of \(suite.rows.count) checks FAILED")
        return failed == 0
    }
}
