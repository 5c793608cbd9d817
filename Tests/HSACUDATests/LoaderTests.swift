import Foundation
import HSA
import Testing

// Loader and cache behaviour that holds on every machine, GPU or not.

@Suite struct LoaderTests {
    @Test func searchListFollowsDesignOrder() {
        let list = DynamicLibrary.searchList(
            environmentKey: "HSA_NVRTC_LIBRARY", baseName: "libnvrtc.so", versions: ["13", "12"],
            environment: ["HSA_NVRTC_LIBRARY": "/opt/my/libnvrtc.so.13", "CUDA_PATH": "/cuda"])
        #expect(
            Array(list.prefix(4)) == [
                "/opt/my/libnvrtc.so.13", "libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
            ])
        #expect(list.contains("/cuda/lib64/libnvrtc.so"))
        #expect(list.last == "/usr/local/cuda/lib64/libnvrtc.so.12")
        let cudaIndex = list.firstIndex(of: "/cuda/lib64/libnvrtc.so") ?? -1
        let usrIndex = list.firstIndex(of: "/usr/local/cuda/lib64/libnvrtc.so") ?? -1
        #expect(cudaIndex >= 0 && cudaIndex < usrIndex)
    }

    @Test func stubsAreNeverSearched() {
        let list = DynamicLibrary.searchList(
            environmentKey: "HSA_CUDA_LIBRARY", baseName: "libcuda.so", versions: ["1"],
            environment: [
                "HSA_CUDA_LIBRARY": "/usr/local/cuda/lib64/stubs/libcuda.so",
                "CUDA_PATH": "/usr/local/cuda-13.0/targets/x86_64-linux/lib/stubs/..",
            ])
        #expect(!list.contains { $0.contains("/stubs/") })
        #expect(DynamicLibrary.isStub("/usr/local/cuda/lib64/stubs/libcuda.so"))
        #expect(!DynamicLibrary.isStub("/usr/local/cuda/lib64/libcuda.so.1"))
    }

    @Test func missingLibraryErrorNamesEveryCandidate() {
        let candidates = ["/nonexistent/libhsa_missing.so", "libhsa_missing.so.13"]
        #expect {
            _ = try DynamicLibrary.open(name: "cuBLAS", candidates: candidates)
        } throws: { error in
            let text = "\(error)"
            return text.contains("cuBLAS") && candidates.allSatisfy { text.contains($0) }
                && text.contains("HSA_CUBLAS_LIBRARY") && text.contains("hint:")
        }
    }

    @Test func openRefusesStubEvenWhenListed() {
        #expect(throws: CUDAError.self) {
            _ = try DynamicLibrary.open(
                name: "CUDA driver", candidates: ["/usr/local/cuda/lib64/stubs/libcuda.so"])
        }
    }

    @Test func availabilityNeverCrashesAndExplainsItself() {
        // On CI (no driver) this is false with a reason; on a GPU machine true without one.
        if CUDA.isAvailable {
            #expect(CUDA.unavailableReason == nil)
        } else {
            let reason = CUDA.unavailableReason ?? ""
            #expect(reason.contains("CUDA"))
            #expect(throws: CUDAError.self) { _ = try CUDADevice() }
        }
    }

    @Test func openFindsARealSystemLibrary() throws {
        // libc is on every Linux machine: proves dlopen + dlsym + path resolution work.
        let library = try DynamicLibrary.open(name: "C library", candidates: ["libc.so.6"])
        #expect(library.symbol("strlen") != nil)
        #expect(library.symbol("hsa_no_such_symbol") == nil)
        #expect(library.path.contains("libc"))
    }
}

@Suite struct KernelCacheTests {
    @Test func keyChangesWithEveryInput() {
        let base = KernelCache.key(
            source: "k", architecture: "sm_90", options: ["-O3"], compilerVersion: "13.0")
        let variants = [
            KernelCache.key(
                source: "k2", architecture: "sm_90", options: ["-O3"],
                compilerVersion: "13.0"),
            KernelCache.key(
                source: "k", architecture: "sm_80", options: ["-O3"],
                compilerVersion: "13.0"),
            KernelCache.key(
                source: "k", architecture: "sm_90", options: ["-O2"],
                compilerVersion: "13.0"),
            KernelCache.key(
                source: "k", architecture: "sm_90", options: ["-O3"],
                compilerVersion: "12.8"),
        ]
        for variant in variants { #expect(variant != base) }
        #expect(base.count == 64)
        #expect(
            base
                == KernelCache.key(
                    source: "k", architecture: "sm_90", options: ["-O3"], compilerVersion: "13.0"))
    }

    @Test func cacheDirectoryHonoursOverride() {
        #expect(KernelCache.directory(environment: ["HSA_KERNEL_CACHE": "/tmp/k"]).path == "/tmp/k")
        #expect(
            KernelCache.directory(environment: ["HOME": "/home/u"]).path
                == "/home/u/.cache/hsa/kernels")
    }

    @Test func everyKernelSourceNamesVersionedEntryPoints() {
        for source in KernelSource.all + KernelSource.tensorCore {
            #expect(source.text.contains("extern \"C\" __global__"), "\(source.name)")
            let declarations = source.text.components(separatedBy: "extern \"C\"").count - 1
            #expect(source.entryPoints.count == declarations, "\(source.name)")
            for entry in source.entryPoints {
                let version = entry.split(separator: "_").last ?? ""
                #expect(
                    entry.hasPrefix("hsa_") && version.hasPrefix("v")
                        && version.dropFirst().allSatisfy(\.isNumber), "\(entry)")
            }
        }
    }
}
