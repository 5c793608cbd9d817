// Vector kernels the model's glue needs: add, accumulate, scale, and the per-block partial sums
// of squares behind the gradient norm. Grid-stride loops; every element has one writer.

extension KernelSource {
    /// add, accumulate, scale, sum-of-squares partials.
    static let vector = KernelSource(
        name: "vector.cu",
        body: #"""
            #define HSA_GRID_STRIDE(i, total) \
                for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (total); \
                     i += (size_t)gridDim.x * blockDim.x)

            extern "C" __global__ void __launch_bounds__(256)
            hsa_add_v1(float* out, const float* a, const float* b, long long count) {
                HSA_GRID_STRIDE(i, (size_t)count) { out[i] = a[i] + b[i]; }
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_accumulate_v1(float* dst, const float* src, long long count) {
                HSA_GRID_STRIDE(i, (size_t)count) { dst[i] += src[i]; }
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_scale_v1(float* x, float factor, long long count) {
                HSA_GRID_STRIDE(i, (size_t)count) { x[i] *= factor; }
            }

            // partials[blockIdx.x] = sum of x[i]^2 (in double) over this block's grid-stride
            // elements. The grid size is fixed by the caller, so the result is deterministic.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_sum_of_squares_partial_v1(double* partials, const float* x, long long count) {
                __shared__ double shared[32];
                double total = 0.0;
                HSA_GRID_STRIDE(i, (size_t)count) {
                    const double value = (double)x[i];
                    total += value * value;
                }
                total = hsa_block_sum(total, shared);
                if (threadIdx.x == 0) partials[blockIdx.x] = total;
            }
            """#)
}
