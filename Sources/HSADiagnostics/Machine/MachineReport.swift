import HSACPU
import HSACUDA
import HSACore
import HSAReport

/// `hsa doctor`: what this machine offers hsa (threads, BLAS, the CUDA device, NCCL).
public enum MachineReport {
    /// Prints one line per item as it is found.
    public static func printLines() {
        Terminal.printLine("threads: \(Threads.count) (HSA_NUM_THREADS overrides)")
        Terminal.printLine("BLAS: \(BLAS.configuration), \(BLAS.threads) threads")
        // The CUDA backend's own loader: the documented search order, never stubs/.
        if let reason = CUDA.unavailableReason {
            Terminal.printLine("GPU: none usable; \(reason)")
        } else {
            do {
                Terminal.printLine("GPU: \(try CUDADevice(ordinal: 0).summary)")
            } catch {
                Terminal.printLine("GPU: CUDA libraries load, but device 0 failed: \(error)")
            }
        }
        // Optional: only `hsa train --gpus N` needs it.
        if let reason = NCCL.unavailableReason {
            Terminal.printLine("NCCL: not loaded (multi-GPU training unavailable); \(reason)")
        } else if let nccl = try? NCCL.library() {
            Terminal.printLine("NCCL: \(nccl.version) [\(nccl.library.path)]")
        }
    }
}
