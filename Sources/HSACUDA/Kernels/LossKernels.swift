// Softmax cross-entropy forward and fused backward. Letters: N rows, V vocab.

extension KernelSource {
    /// Cross-entropy: one block per row; the exponential sum runs in double like the CPU.
    static let loss = KernelSource(
        name: "crossentropy.cu",
        body: #"""
            // Row max and sum of exp(x - max) in double, shared by forward and backward.
            __device__ void hsa_softmax_stats(const float* row, int V, float* maximum,
                                              double* total) {
                __shared__ float sharedMax[32];
                __shared__ double sharedSum[32];
                float m = -INFINITY;
                for (int v = threadIdx.x; v < V; v += blockDim.x) m = fmaxf(m, row[v]);
                m = hsa_block_max(m, sharedMax);
                double sum = 0.0;
                for (int v = threadIdx.x; v < V; v += blockDim.x) sum += (double)expf(row[v] - m);
                *total = hsa_block_sum(sum, sharedSum);
                *maximum = m;
            }

            // losses[n] = logsumexp(logits[n]) - logits[n, target]; 0 for negative targets.
            extern "C" __global__ void __launch_bounds__(512)
            hsa_crossentropy_forward_v1(float* losses, const float* logits, const int* targets,
                                        int N, int V) {
                const int n = blockIdx.x;
                const int target = targets[n];
                if (target < 0) {
                    if (threadIdx.x == 0) losses[n] = 0.f;
                    return;
                }
                const float* row = logits + (size_t)n * V;
                float m;
                double total;
                hsa_softmax_stats(row, V, &m, &total);
                if (threadIdx.x == 0)
                    losses[n] = (float)((double)m + log(total) - (double)row[target]);
            }

            // dLogits[n] = rowScale[n] * (softmax(logits[n]) - onehot(target)), overwritten.
            extern "C" __global__ void __launch_bounds__(512)
            hsa_crossentropy_backward_v1(float* dLogits, const float* logits, const int* targets,
                                         const float* rowScale, int N, int V) {
                const int n = blockIdx.x;
                const int target = targets[n];
                float* dRow = dLogits + (size_t)n * V;
                if (target < 0) {
                    for (int v = threadIdx.x; v < V; v += blockDim.x) dRow[v] = 0.f;
                    return;
                }
                const float* row = logits + (size_t)n * V;
                float m;
                double total;
                hsa_softmax_stats(row, V, &m, &total);
                const float scale = rowScale[n];
                const float factor = (float)((double)scale / total);
                for (int v = threadIdx.x; v < V; v += blockDim.x) {
                    float value = expf(row[v] - m) * factor;
                    if (v == target) value -= scale;
                    dRow[v] = value;
                }
            }
            """#)
}
