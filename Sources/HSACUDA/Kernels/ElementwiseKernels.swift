// Elementwise kernels: RoPE, SwiGLU, AdamW, embedding gather/scatter. Grid-stride loops.

extension KernelSource {
    /// RoPE (rotate-half), SwiGLU, AdamW and embeddings.
    static let elementwise = KernelSource(
        name: "elementwise.cu",
        body: #"""
            #define HSA_GRID_STRIDE(i, total) \
                for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (total); \
                     i += (size_t)gridDim.x * blockDim.x)

            // x (N, H, HS) rotated in place by direction * pos * theta^(-2i/HS); angles, cos and
            // sin in double like the CPU, rounded once. One thread per (row, i) computes them once
            // for all H heads (v1 recomputed them per head: same bits, H times the double trig).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_rope_apply_v2(float* x, const int* positions, int N, int H, int HS, float theta,
                              float direction) {
                const int half = HS / 2;
                HSA_GRID_STRIDE(idx, (size_t)N * half) {
                    const int i = (int)(idx % half);
                    const size_t n = idx / half;
                    const double frequency = pow((double)theta, -(double)(2 * i) / (double)HS);
                    const double angle = (double)positions[n] * frequency;
                    const float c = (float)cos(angle);
                    const float s = direction * (float)sin(angle);
                    for (int h = 0; h < H; ++h) {
                        float* row = x + (n * H + h) * HS;
                        const float a = row[i], b = row[i + half];
                        row[i] = a * c - b * s;
                        row[i + half] = b * c + a * s;
                    }
                }
            }

            // v2 with the HS/2 inverse frequencies read from a table (YaRN's stretched ones, computed
            // on the host as the CPU does) and cos and sin scaled by `scale` (YaRN's attention
            // factor), both in double like the CPU.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_rope_table_v1(float* x, const int* positions, const double* frequencies, int N,
                              int H, int HS, double scale, float direction) {
                const int half = HS / 2;
                HSA_GRID_STRIDE(idx, (size_t)N * half) {
                    const int i = (int)(idx % half);
                    const size_t n = idx / half;
                    const double angle = (double)positions[n] * frequencies[i];
                    const float c = (float)(scale * cos(angle));
                    const float s = direction * (float)(scale * sin(angle));
                    for (int h = 0; h < H; ++h) {
                        float* row = x + (n * H + h) * HS;
                        const float a = row[i], b = row[i + half];
                        row[i] = a * c - b * s;
                        row[i + half] = b * c + a * s;
                    }
                }
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_swiglu_forward_v1(float* out, const float* gate, const float* up, long long count) {
                HSA_GRID_STRIDE(i, (size_t)count) {
                    const float g = gate[i];
                    out[i] = g * (1.0f / (1.0f + expf(-g))) * up[i];
                }
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_swiglu_backward_v1(float* dGate, float* dUp, const float* dOut, const float* gate,
                                   const float* up, long long count) {
                HSA_GRID_STRIDE(i, (size_t)count) {
                    const float g = gate[i];
                    const float s = 1.0f / (1.0f + expf(-g));
                    const float d = dOut[i];
                    dGate[i] = d * up[i] * s * (1.0f + g * (1.0f - s));
                    dUp[i] = d * g * s;
                }
            }

            // torch.optim.AdamW; corrections are 1 - beta^step computed on the host in double.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_adamw_update_v1(float* p, const float* grad, float* m, float* v, long long count,
                                float lr, float beta1, float beta2, float eps, float decayFactor,
                                float correction1, float correction2) {
                HSA_GRID_STRIDE(i, (size_t)count) {
                    const float g = grad[i];
                    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
                    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
                    m[i] = mi;
                    v[i] = vi;
                    const float mHat = mi / correction1;
                    const float vHat = vi / correction2;
                    p[i] = p[i] * decayFactor - lr * mHat / (sqrtf(vHat) + eps);
                }
            }

            // out (N, C) = table[tokens[n]]; one block per row.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_embedding_forward_v1(float* out, const int* tokens, const float* table, int N,
                                     int C) {
                const int n = blockIdx.x;
                const float* source = table + (size_t)tokens[n] * C;
                float* target = out + (size_t)n * C;
                for (int c = threadIdx.x; c < C; c += blockDim.x) target[c] = source[c];
            }

            // Deterministic scatter: block (u, channel tile) owns table row uniqueTokens[u] and
            // adds its rows order[offsets[u] ..< offsets[u+1]] (ascending row order) one by one,
            // exactly like the CPU loop, so results match bit for bit.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_embedding_backward_v1(float* dTable, const float* dOut, const int* uniqueTokens,
                                      const int* offsets, const int* order, int C) {
                const int u = blockIdx.x;
                const int c = blockIdx.y * blockDim.x + threadIdx.x;
                if (c >= C) return;
                float* target = dTable + (size_t)uniqueTokens[u] * C + c;
                float sum = *target;
                for (int k = offsets[u]; k < offsets[u + 1]; k++)
                    sum += dOut[(size_t)order[k] * C + c];
                *target = sum;
            }

            // GPU-sorted scatter (v2). Keys are (token << 32 | row): sorting them groups rows by
            // token with rows ascending inside a group, so every order is fixed and the sums
            // match the CPU loop bit for bit. P (a power of two >= 2048) keys; padding sorts
            // last.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_embedding_keys_v2(unsigned long long* keys, const int* tokens, int N, int P) {
                HSA_GRID_STRIDE(i, (size_t)P) {
                    keys[i] = (long long)i < N
                        ? ((unsigned long long)(unsigned)tokens[i] << 32) | (unsigned long long)i
                        : ~0ull;
                }
            }

            __device__ __forceinline__ void hsa_compare_swap(unsigned long long* a,
                                                             unsigned long long* b,
                                                             bool ascending) {
                const unsigned long long x = *a, y = *b;
                if ((x > y) == ascending) { *a = y; *b = x; }
            }

            // One bitonic merge step with partner distance j >= 2048 over global memory.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_bitonic_global_v2(unsigned long long* keys, int P, int j, int k) {
                HSA_GRID_STRIDE(p, (size_t)P / 2) {
                    const int pair = (int)p;
                    const int i = (pair / j) * 2 * j + (pair % j);
                    hsa_compare_swap(keys + i, keys + i + j, (i & k) == 0);
                }
            }

            // Bitonic stages k in [kFirst, kLast] (powers of two), for each every j < 2048, on
            // one 2048-key tile in shared memory per block.
            extern "C" __global__ void __launch_bounds__(1024)
            hsa_bitonic_shared_v2(unsigned long long* keys, int kFirst, int kLast) {
                __shared__ unsigned long long tile[2048];
                const int base = blockIdx.x * 2048;
                tile[threadIdx.x] = keys[base + threadIdx.x];
                tile[threadIdx.x + 1024] = keys[base + threadIdx.x + 1024];
                __syncthreads();
                for (int k = kFirst; k <= kLast; k <<= 1) {
                    for (int j = min(k >> 1, 1024); j > 0; j >>= 1) {
                        const int pair = threadIdx.x;
                        const int i = (pair / j) * 2 * j + (pair % j);
                        hsa_compare_swap(tile + i, tile + i + j, ((base + i) & k) == 0);
                        __syncthreads();
                    }
                }
                keys[base + threadIdx.x] = tile[threadIdx.x];
                keys[base + threadIdx.x + 1024] = tile[threadIdx.x + 1024];
            }

            // Block (i, channel tile): if sorted key i starts a token group, adds the group's rows
            // in ascending row order into dTable[token] (tokens outside 0..<V are skipped).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_embedding_backward_v2(float* dTable, const float* dOut,
                                      const unsigned long long* keys, int N, int V, int C) {
                const int i = blockIdx.x;
                const int c = blockIdx.y * blockDim.x + threadIdx.x;
                const unsigned token = (unsigned)(keys[i] >> 32);
                if (c >= C || token >= (unsigned)V) return;
                if (i > 0 && (unsigned)(keys[i - 1] >> 32) == token) return;
                float* target = dTable + (size_t)token * C + c;
                float sum = *target;
                for (int r = i; r < N && (unsigned)(keys[r] >> 32) == token; r++)
                    sum += dOut[(size_t)(unsigned)keys[r] * C + c];
                *target = sum;
            }
            """#)
}
