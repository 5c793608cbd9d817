import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// OpenBLAS picks its kernels when the library loads, from the CPU model. Builds that predate
/// the CPU (OpenBLAS 0.3.21 on recent Xeons) fall back to the SSE3 "Prescott" kernels, which
/// measured 1.7x slower for a `small` training step than the AVX-512 ones. When that happens
/// and the user has not chosen a core, the process re-executes itself once with
/// OPENBLAS_CORETYPE set from the CPU's flags.
public enum BLASCoreSelection {
    /// Re-executes this process with OPENBLAS_CORETYPE set when OpenBLAS fell back to the
    /// Prescott kernels; returns when nothing needs to change (or `execv` failed).
    public static func upgradeIfNeeded() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, BLAS.configuration.contains("Prescott"),
            let core = preferredCore()
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.arguments
        var cArguments = arguments.map { strdup($0) }
        cArguments.append(nil)
        execv("/proc/self/exe", &cArguments)
        // execv only returns on failure: carry on with the kernels we have.
    }

    /// SkylakeX for AVX-512 CPUs, Haswell for AVX2 + FMA ones, nil otherwise.
    static func preferredCore() -> String? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl"]) {
            return "SkylakeX"
        }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
