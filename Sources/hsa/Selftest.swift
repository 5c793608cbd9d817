import ArgumentParser
import HSADiagnostics

/// `hsa selftest`: the GPU-vs-CPU parity suite of HSADiagnostics.
struct Selftest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every CUDA kernel against the CPU backend (skipped without a GPU).")

    @Option(help: "Backend to check: cuda.")
    var backend = "cuda"

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 20_240_601

    @Flag(help: "Also time each kernel at a realistic size (rows 8*4096, C 1024).")
    var bench = false

    @Flag(help: "Only the per-kernel checks (skip the managed-memory ops and whole-model runs).")
    var kernelsOnly = false

    func run() throws {
        guard backend == "cuda" else {
            throw ValidationError("selftest checks the cuda backend; got --backend \(backend)")
        }
        let passed = try HSADiagnostics.Selftest(
            seed: seed, timesKernels: bench, kernelsOnly: kernelsOnly
        ).run()
        if !passed { throw ExitCode(1) }
    }
}
