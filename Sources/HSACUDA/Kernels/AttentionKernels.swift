// Attention with grouped-query heads and a causal sliding window or bidirectional mask.
// Letters: B batch, T sequence, NH query heads, NKV key/value heads, HS head size (<= 256),
// G = NH / NKV. Layouts: q, out, dOut (B, T, NH, HS); k, v (B, T, NKV, HS); lse (B, T, NH).
// Version 1: one warp per query row (forward, dQ) or key row (dK, dV); lane l holds elements
// l, l + 32, ... of a head vector. Keys are visited one at a time with an online softmax.

extension KernelSource {
    /// Attention forward (online softmax) and backward (recomputed probabilities).
    static let attention = KernelSource(
        name: "attention.cu",
        body: #"""
            #define HSA_HS_SLOTS 8  // HS <= 32 * 8

            struct HsaAttentionShape { int B, T, NH, NKV, HS, causal, window; };

            __device__ __forceinline__ void hsa_key_bounds(const HsaAttentionShape& s, int t,
                                                           int* first, int* last) {
                if (s.causal) { *first = max(0, t - s.window + 1); *last = t; }
                else { *first = 0; *last = s.T - 1; }
            }

            __device__ __forceinline__ void hsa_load(float* reg, const float* src, int HS,
                                                    float scale) {
                const int lane = threadIdx.x & 31;
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) {
                    const int d = lane + 32 * j;
                    reg[j] = d < HS ? src[d] * scale : 0.f;
                }
            }

            __device__ __forceinline__ float hsa_dot(const float* reg, const float* src, int HS) {
                const int lane = threadIdx.x & 31;
                float sum = 0.f;
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) {
                    const int d = lane + 32 * j;
                    if (d < HS) sum += reg[j] * src[d];
                }
                return hsa_warp_sum(sum);
            }

            extern "C" __global__ void __launch_bounds__(128)
            hsa_attention_forward_v1(float* out, float* lse, const float* q, const float* k,
                                     const float* v, HsaAttentionShape s) {
                const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
                if (row >= s.B * s.T * s.NH) return;
                const int lane = threadIdx.x & 31;
                const int h = row % s.NH, t = (row / s.NH) % s.T, b = row / (s.NH * s.T);
                const int kvHead = h / (s.NH / s.NKV);
                const float scale = 1.0f / sqrtf((float)s.HS);
                float query[HSA_HS_SLOTS], acc[HSA_HS_SLOTS];
                hsa_load(query, q + (size_t)row * s.HS, s.HS, scale);
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) acc[j] = 0.f;
                int first, last;
                hsa_key_bounds(s, t, &first, &last);
                float m = -INFINITY, l = 0.f;
                for (int key = first; key <= last; key++) {
                    const size_t offset = ((size_t)(b * s.T + key) * s.NKV + kvHead) * s.HS;
                    const float score = hsa_dot(query, k + offset, s.HS);
                    if (score > m) {
                        const float correction = m == -INFINITY ? 0.f : expf(m - score);
                        l *= correction;
                        #pragma unroll
                        for (int j = 0; j < HSA_HS_SLOTS; j++) acc[j] *= correction;
                        m = score;
                    }
                    const float p = expf(score - m);
                    l += p;
                    const float* value = v + offset;
                    #pragma unroll
                    for (int j = 0; j < HSA_HS_SLOTS; j++) {
                        const int d = lane + 32 * j;
                        if (d < s.HS) acc[j] += p * value[d];
                    }
                }
                const float inverse = 1.0f / l;
                float* target = out + (size_t)row * s.HS;
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) {
                    const int d = lane + 32 * j;
                    if (d < s.HS) target[d] = acc[j] * inverse;
                }
                if (lane == 0) lse[row] = m + logf(l);
            }

            // delta[row] = dOut[row] . out[row]
            extern "C" __global__ void __launch_bounds__(128)
            hsa_attention_delta_v1(float* delta, const float* dOut, const float* out, int rows,
                                   int HS) {
                const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
                if (row >= rows) return;
                float reg[HSA_HS_SLOTS];
                hsa_load(reg, dOut + (size_t)row * HS, HS, 1.0f);
                const float value = hsa_dot(reg, out + (size_t)row * HS, HS);
                if ((threadIdx.x & 31) == 0) delta[row] = value;
            }

            // dQ[row] = scale * sum_j p_j (dOut . v_j - delta) k_j; overwritten.
            extern "C" __global__ void __launch_bounds__(128)
            hsa_attention_backward_query_v1(float* dQ, const float* dOut, const float* delta,
                                            const float* lse, const float* q, const float* k,
                                            const float* v, HsaAttentionShape s) {
                const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
                if (row >= s.B * s.T * s.NH) return;
                const int lane = threadIdx.x & 31;
                const int h = row % s.NH, t = (row / s.NH) % s.T, b = row / (s.NH * s.T);
                const int kvHead = h / (s.NH / s.NKV);
                const float scale = 1.0f / sqrtf((float)s.HS);
                float query[HSA_HS_SLOTS], gradient[HSA_HS_SLOTS], acc[HSA_HS_SLOTS];
                hsa_load(query, q + (size_t)row * s.HS, s.HS, scale);
                hsa_load(gradient, dOut + (size_t)row * s.HS, s.HS, 1.0f);
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) acc[j] = 0.f;
                const float rowLse = lse[row], rowDelta = delta[row];
                int first, last;
                hsa_key_bounds(s, t, &first, &last);
                for (int key = first; key <= last; key++) {
                    const size_t offset = ((size_t)(b * s.T + key) * s.NKV + kvHead) * s.HS;
                    const float p = expf(hsa_dot(query, k + offset, s.HS) - rowLse);
                    const float ds = p * (hsa_dot(gradient, v + offset, s.HS) - rowDelta);
                    const float* keyRow = k + offset;
                    #pragma unroll
                    for (int j = 0; j < HSA_HS_SLOTS; j++) {
                        const int d = lane + 32 * j;
                        if (d < s.HS) acc[j] += ds * keyRow[d];
                    }
                }
                float* target = dQ + (size_t)row * s.HS;
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) {
                    const int d = lane + 32 * j;
                    if (d < s.HS) target[d] = acc[j] * scale;
                }
            }

            // One warp per key row (b, key, kvHead): visits every (query position ascending, head
            // of the group ascending) that sees the key. dK, dV overwritten.
            extern "C" __global__ void __launch_bounds__(128)
            hsa_attention_backward_key_v1(float* dK, float* dV, const float* dOut,
                                          const float* delta,
                                          const float* lse, const float* q, const float* k,
                                          const float* v, HsaAttentionShape s) {
                const int keyRow = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
                if (keyRow >= s.B * s.T * s.NKV) return;
                const int lane = threadIdx.x & 31;
                const int kvHead = keyRow % s.NKV, key = (keyRow / s.NKV) % s.T;
                const int b = keyRow / (s.NKV * s.T);
                const int group = s.NH / s.NKV;
                const float scale = 1.0f / sqrtf((float)s.HS);
                float valueReg[HSA_HS_SLOTS], dk[HSA_HS_SLOTS], dv[HSA_HS_SLOTS];
                hsa_load(valueReg, v + (size_t)keyRow * s.HS, s.HS, 1.0f);
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) { dk[j] = 0.f; dv[j] = 0.f; }
                int first = 0, last = s.T - 1;
                if (s.causal) { first = key; last = min(s.T - 1, key + s.window - 1); }
                for (int t = first; t <= last; t++) {
                    for (int h = kvHead * group; h < (kvHead + 1) * group; h++) {
                        const size_t row = ((size_t)(b * s.T + t)) * s.NH + h;
                        const float* query = q + row * s.HS;
                        const float* gradient = dOut + row * s.HS;
                        float scaled[HSA_HS_SLOTS];
                        hsa_load(scaled, query, s.HS, scale);
                        const float score = hsa_dot(scaled, k + (size_t)keyRow * s.HS, s.HS);
                        const float p = expf(score - lse[row]);
                        const float dp = hsa_dot(valueReg, gradient, s.HS);
                        const float ds = p * (dp - delta[row]);
                        #pragma unroll
                        for (int j = 0; j < HSA_HS_SLOTS; j++) {
                            const int d = lane + 32 * j;
                            if (d < s.HS) {
                                dv[j] += p * gradient[d];
                                dk[j] += ds * scaled[j];
                            }
                        }
                    }
                }
                #pragma unroll
                for (int j = 0; j < HSA_HS_SLOTS; j++) {
                    const int d = lane + 32 * j;
                    if (d < s.HS) {
                        dK[(size_t)keyRow * s.HS + d] = dk[j];
                        dV[(size_t)keyRow * s.HS + d] = dv[j];
                    }
                }
            }
            """#)
}
