import ArgumentParser
import Foundation
import HSA

#if canImport(Glibc)
    import Glibc
#endif

extension HSACommand {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report what this machine offers hsa: BLAS, threads, CUDA libraries.")

        func run() throws {
            Terminal.printLine("threads: \(Threads.count) (HSA_NUM_THREADS overrides)")
            Terminal.printLine("BLAS: \(BLAS.configuration), \(BLAS.threads) threads")
            for (name, candidates) in Self.cudaLibraries {
                let found = candidates.first { dlopen($0, RTLD_NOW | RTLD_LOCAL) != nil }
                Terminal.printLine("\(name): \(found.map { "found \($0)" } ?? "not found")")
            }
            Terminal.printLine("CUDA backend: not built yet (CPU backend only)")
        }

        /// Sonames tried for each CUDA library, in the order of DESIGN.md §5d (never stubs/).
        static let cudaLibraries: [(String, [String])] = [
            ("CUDA driver", ["libcuda.so.1", "libcuda.so"]),
            ("NVRTC", ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"]),
            ("cuBLAS", ["libcublas.so", "libcublas.so.13", "libcublas.so.12"]),
        ]
    }
}
