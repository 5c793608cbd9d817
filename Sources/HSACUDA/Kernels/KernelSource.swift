// Kernel sources are CUDA C++ kept as Swift string literals (the HSACUDA target declares no
// resources, and literals keep the static binary self-contained). Each module is compiled by
// NVRTC once per architecture and cached on disk; entry points follow
// `extern "C" __global__ void hsa_<op>_<pass>_v<N>`, the version matching dev/kernels.

/// One compilation unit: a name for NVRTC's messages and the full source text.
public struct KernelSource: Sendable, Hashable {
    /// File-like name, e.g. "rmsnorm.cu".
    public let name: String
    /// CUDA C++ source, the shared prelude included.
    public let text: String

    init(name: String, body: String) {
        self.name = name
        self.text = KernelPrelude.text + body
    }
}

/// Helpers shared by every module: warp and block reductions.
enum KernelPrelude {
    static let text = #"""
        // hsa kernel prelude: reductions. Blocks are a multiple of 32 threads, at most 1024.
        #define HSA_FULL_MASK 0xffffffffu
        // NVRTC has no <math.h>: spell infinity through its bit pattern.
        #ifndef INFINITY
        #define INFINITY __int_as_float(0x7f800000)
        #endif

        template <typename T> __device__ __forceinline__ T hsa_warp_sum(T value) {
            for (int offset = 16; offset > 0; offset >>= 1)
                value += __shfl_xor_sync(HSA_FULL_MASK, value, offset);
            return value;
        }

        __device__ __forceinline__ float hsa_warp_max(float value) {
            for (int offset = 16; offset > 0; offset >>= 1)
                value = fmaxf(value, __shfl_xor_sync(HSA_FULL_MASK, value, offset));
            return value;
        }

        // Sum over the block; every thread gets the result. `shared` holds 32 values of T.
        template <typename T> __device__ T hsa_block_sum(T value, T* shared) {
            const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            const int warps = (blockDim.x + 31) >> 5;
            value = hsa_warp_sum(value);
            __syncthreads();  // earlier readers of shared[0] are done
            if (lane == 0) shared[warp] = value;
            __syncthreads();
            if (warp == 0) {
                value = lane < warps ? shared[lane] : T(0);
                value = hsa_warp_sum(value);
                if (lane == 0) shared[0] = value;
            }
            __syncthreads();
            return shared[0];
        }

        // Block-wide stream compaction of one flag per thread, in thread order: returns the
        // position of this thread's flag among the block's set flags (meaningful when `keep`)
        // and their number in *total. `counts` holds one int per warp. Starts with a
        // __syncthreads (earlier readers of `counts` and of the caller's list are done); every
        // thread of the block must call it.
        __device__ __forceinline__ int hsa_block_compact(bool keep, int* counts, int* total) {
            const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            const int warps = (blockDim.x + 31) >> 5;
            const unsigned ballot = __ballot_sync(HSA_FULL_MASK, keep);
            __syncthreads();
            if (lane == 0) counts[warp] = __popc(ballot);
            __syncthreads();
            int offset = 0, sum = 0;
            for (int w = 0; w < warps; ++w) {
                if (w < warp) offset += counts[w];
                sum += counts[w];
            }
            *total = sum;
            return offset + __popc(ballot & ((1u << lane) - 1u));
        }

        // Maximum over the block; every thread gets the result.
        __device__ float hsa_block_max(float value, float* shared) {
            const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            const int warps = (blockDim.x + 31) >> 5;
            value = hsa_warp_max(value);
            __syncthreads();
            if (lane == 0) shared[warp] = value;
            __syncthreads();
            if (warp == 0) {
                value = lane < warps ? shared[lane] : -INFINITY;
                value = hsa_warp_max(value);
                if (lane == 0) shared[0] = value;
            }
            __syncthreads();
            return shared[0];
        }

        """#
}

// MARK: - Catalogue

extension KernelSource {
    /// Every module, in the order `CUDABackend.warmUp` compiles them.
    public static var all: [KernelSource] {
        [.norm, .elementwise, .loss, .attention, .vector, .sparse]
    }

    /// Modules that need an sm_80+ device (tensor-core MMA), compiled on first use.
    public static var tensorCore: [KernelSource] { [.attentionTensorCore, .sparseTensorCore] }

    /// The kernel names: each `extern "C" __global__ ... __launch_bounds__(n)` line is followed
    /// by a line starting with the name, as every kernel here is written.
    public var entryPoints: [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var names: [String] = []
        for (index, line) in lines.enumerated()
        where line.contains("extern \"C\" __global__") && index + 1 < lines.count {
            let next = lines[index + 1].drop { $0 == " " }
            names.append(String(next.prefix { $0 != "(" }))
        }
        return names
    }
}
