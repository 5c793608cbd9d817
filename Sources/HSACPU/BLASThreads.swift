import CBLAS

/// OpenBLAS thread control, and a description of the BLAS build for `hsa doctor` and run logs.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for each call (at least 1).
    /// - Parameter n: the thread count.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(clamping: max(n, 1)))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The OpenBLAS build configuration (`openblas_get_config()`), e.g.
    /// `"OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"`.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }
}
