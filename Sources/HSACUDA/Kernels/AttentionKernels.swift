// Attention with grouped-query heads and a causal sliding window or bidirectional mask.
// Letters: B batch, T sequence, NH query heads, NKV key/value heads, HS head size (<= 256),
// G = NH / NKV. Layouts: q, out, dOut (B, T, NH, HS); k, v (B, T, NKV, HS); lse (B, T, NH).
// Version 1: one warp per query row (forward, dQ) or key row (dK, dV); lane l holds elements
// l, l + 32, ... of a head vector. Keys are visited one at a time with an online softmax.
// Version 2 (HS <= 64): flash-style tiles in shared memory, 256 threads with register tiles;
// forward 64 queries x 32 keys per step, dQ 32 x 32, dK/dV 32 keys x 32 queries per step.

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

            // ---- v2: tiled (flash-style) attention for HS <= 64, fp32 on CUDA cores ----
            // 256 threads = 16 (ty) x 16 (tx). Head vectors are padded to HSP = 16 * DT with zeros in
            // shared memory (row stride HSP + 1 against bank conflicts); thread (ty, tx) owns head
            // dimensions tx + 16 j. Key tiles of 32; every sum runs in a fixed order (no atomics).
            #define HSA_FA_BK 32

            __device__ __forceinline__ float hsa_half_warp_max(float value) {
                for (int offset = 8; offset > 0; offset >>= 1)
                    value = fmaxf(value, __shfl_xor_sync(HSA_FULL_MASK, value, offset));
                return value;
            }

            __device__ __forceinline__ float hsa_half_warp_sum(float value) {
                for (int offset = 8; offset > 0; offset >>= 1)
                    value += __shfl_xor_sync(HSA_FULL_MASK, value, offset);
                return value;
            }

            __device__ __forceinline__ bool hsa_sees(const HsaAttentionShape& s, int t, int key) {
                if (t >= s.T || key >= s.T) return false;
                return !s.causal || (key <= t && key > t - s.window);
            }

            // Rows [row0, row0 + R) of a (B, T, heads, HS) tensor for head `head` into tile (padded).
            template <int R, int HSP>
            __device__ __forceinline__ void hsa_fa_load(float (*tile)[HSP + 1], const float* src,
                                                        const HsaAttentionShape& s, int b, int row0,
                                                        int heads, int head, float scale) {
                for (int i = threadIdx.x; i < R * HSP; i += blockDim.x) {
                    const int r = i / HSP, d = i % HSP, t = row0 + r;
                    tile[r][d] = (t < s.T && d < s.HS)
                        ? src[(((size_t)b * s.T + t) * heads + head) * s.HS + d] * scale : 0.f;
                }
            }

            // Block (query tile of BQ positions, head h; batch b): online softmax over key tiles.
            template <int BQ, int DT>
            __device__ __forceinline__ void hsa_fa_forward(float* out, float* lse, const float* q,
                                                           const float* k, const float* v,
                                                           HsaAttentionShape s) {
                constexpr int HSP = 16 * DT, RQ = BQ / 16, BK = HSA_FA_BK, KT = BK / 16;
                __shared__ float Qs[BQ][HSP + 1];
                __shared__ float Ks[BK][HSP + 1];
                __shared__ float Vs[BK][HSP + 1];
                __shared__ float Ps[BQ][BK + 1];
                const int h = blockIdx.x % s.NH, q0 = (blockIdx.x / s.NH) * BQ, b = blockIdx.y;
                const int kvHead = h / (s.NH / s.NKV);
                const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
                hsa_fa_load<BQ, HSP>(Qs, q, s, b, q0, s.NH, h, 1.0f / sqrtf((float)s.HS));
                float m[RQ], l[RQ], acc[RQ][DT];
                #pragma unroll
                for (int i = 0; i < RQ; i++) {
                    m[i] = -INFINITY; l[i] = 0.f;
                    #pragma unroll
                    for (int j = 0; j < DT; j++) acc[i][j] = 0.f;
                }
                int first = 0, last = s.T - 1;
                if (s.causal) { first = max(0, q0 - s.window + 1); last = min(s.T - 1, q0 + BQ - 1); }
                for (int k0 = (first / BK) * BK; k0 <= last; k0 += BK) {
                    __syncthreads();  // the previous tile's readers are done
                    hsa_fa_load<BK, HSP>(Ks, k, s, b, k0, s.NKV, kvHead, 1.0f);
                    hsa_fa_load<BK, HSP>(Vs, v, s, b, k0, s.NKV, kvHead, 1.0f);
                    __syncthreads();
                    float sc[RQ][KT];
                    #pragma unroll
                    for (int i = 0; i < RQ; i++)
                        #pragma unroll
                        for (int j = 0; j < KT; j++) sc[i][j] = 0.f;
                    #pragma unroll 8
                    for (int d = 0; d < HSP; d++) {
                        float qv[RQ], kv[KT];
                        #pragma unroll
                        for (int i = 0; i < RQ; i++) qv[i] = Qs[ty * RQ + i][d];
                        #pragma unroll
                        for (int j = 0; j < KT; j++) kv[j] = Ks[tx + 16 * j][d];
                        #pragma unroll
                        for (int i = 0; i < RQ; i++)
                            #pragma unroll
                            for (int j = 0; j < KT; j++) sc[i][j] += qv[i] * kv[j];
                    }
                    #pragma unroll
                    for (int i = 0; i < RQ; i++) {
                        const int t = q0 + ty * RQ + i;
                        float tileMax = -INFINITY;
                        #pragma unroll
                        for (int j = 0; j < KT; j++) {
                            if (!hsa_sees(s, t, k0 + tx + 16 * j)) sc[i][j] = -INFINITY;
                            tileMax = fmaxf(tileMax, sc[i][j]);
                        }
                        tileMax = hsa_half_warp_max(tileMax);
                        const float mNew = fmaxf(m[i], tileMax);
                        float correction = 1.f, rowSum = 0.f;
                        #pragma unroll
                        for (int j = 0; j < KT; j++) {
                            const float p = sc[i][j] == -INFINITY ? 0.f : expf(sc[i][j] - mNew);
                            Ps[ty * RQ + i][tx + 16 * j] = p;
                            rowSum += p;
                        }
                        rowSum = hsa_half_warp_sum(rowSum);
                        if (mNew != -INFINITY) correction = m[i] == -INFINITY ? 0.f : expf(m[i] - mNew);
                        l[i] = l[i] * correction + rowSum;
                        m[i] = mNew;
                        #pragma unroll
                        for (int j = 0; j < DT; j++) acc[i][j] *= correction;
                    }
                    __syncthreads();
                    #pragma unroll 4
                    for (int key = 0; key < BK; key++) {
                        float pv[RQ];
                        #pragma unroll
                        for (int i = 0; i < RQ; i++) pv[i] = Ps[ty * RQ + i][key];
                        #pragma unroll
                        for (int j = 0; j < DT; j++) {
                            const float value = Vs[key][tx + 16 * j];
                            #pragma unroll
                            for (int i = 0; i < RQ; i++) acc[i][j] += pv[i] * value;
                        }
                    }
                }
                #pragma unroll
                for (int i = 0; i < RQ; i++) {
                    const int t = q0 + ty * RQ + i;
                    if (t >= s.T) continue;
                    const size_t row = ((size_t)b * s.T + t) * s.NH + h;
                    const float inverse = 1.0f / l[i];
                    #pragma unroll
                    for (int j = 0; j < DT; j++) {
                        const int d = tx + 16 * j;
                        if (d < s.HS) out[row * s.HS + d] = acc[i][j] * inverse;
                    }
                    if (tx == 0) lse[row] = m[i] + logf(l[i]);
                }
            }

            // dQ: block (query tile of BQ = 32 positions, head h; batch b) over key tiles in order.
            template <int DT>
            __device__ __forceinline__ void hsa_fa_backward_query(float* dQ, const float* dOut,
                                                                  const float* delta, const float* lse,
                                                                  const float* q, const float* k,
                                                                  const float* v, HsaAttentionShape s) {
                constexpr int BQ = 32, HSP = 16 * DT, RQ = BQ / 16, BK = HSA_FA_BK, KT = BK / 16;
                __shared__ float Qs[BQ][HSP + 1];
                __shared__ float Gs[BQ][HSP + 1];
                __shared__ float Ks[BK][HSP + 1];
                __shared__ float Vs[BK][HSP + 1];
                __shared__ float Ss[BQ][BK + 1];
                const int h = blockIdx.x % s.NH, q0 = (blockIdx.x / s.NH) * BQ, b = blockIdx.y;
                const int kvHead = h / (s.NH / s.NKV);
                const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
                const float scale = 1.0f / sqrtf((float)s.HS);
                hsa_fa_load<BQ, HSP>(Qs, q, s, b, q0, s.NH, h, scale);
                hsa_fa_load<BQ, HSP>(Gs, dOut, s, b, q0, s.NH, h, 1.0f);
                float rowLse[RQ], rowDelta[RQ], acc[RQ][DT];
                #pragma unroll
                for (int i = 0; i < RQ; i++) {
                    const int t = q0 + ty * RQ + i;
                    const size_t row = ((size_t)b * s.T + min(t, s.T - 1)) * s.NH + h;
                    rowLse[i] = lse[row];
                    rowDelta[i] = delta[row];
                    #pragma unroll
                    for (int j = 0; j < DT; j++) acc[i][j] = 0.f;
                }
                int first = 0, last = s.T - 1;
                if (s.causal) { first = max(0, q0 - s.window + 1); last = min(s.T - 1, q0 + BQ - 1); }
                for (int k0 = (first / BK) * BK; k0 <= last; k0 += BK) {
                    __syncthreads();
                    hsa_fa_load<BK, HSP>(Ks, k, s, b, k0, s.NKV, kvHead, 1.0f);
                    hsa_fa_load<BK, HSP>(Vs, v, s, b, k0, s.NKV, kvHead, 1.0f);
                    __syncthreads();
                    float sc[RQ][KT], dp[RQ][KT];
                    #pragma unroll
                    for (int i = 0; i < RQ; i++)
                        #pragma unroll
                        for (int j = 0; j < KT; j++) { sc[i][j] = 0.f; dp[i][j] = 0.f; }
                    #pragma unroll 8
                    for (int d = 0; d < HSP; d++) {
                        float qv[RQ], gv[RQ], kv[KT], vv[KT];
                        #pragma unroll
                        for (int i = 0; i < RQ; i++) { qv[i] = Qs[ty * RQ + i][d]; gv[i] = Gs[ty * RQ + i][d]; }
                        #pragma unroll
                        for (int j = 0; j < KT; j++) { kv[j] = Ks[tx + 16 * j][d]; vv[j] = Vs[tx + 16 * j][d]; }
                        #pragma unroll
                        for (int i = 0; i < RQ; i++)
                            #pragma unroll
                            for (int j = 0; j < KT; j++) { sc[i][j] += qv[i] * kv[j]; dp[i][j] += gv[i] * vv[j]; }
                    }
                    #pragma unroll
                    for (int i = 0; i < RQ; i++) {
                        const int t = q0 + ty * RQ + i;
                        #pragma unroll
                        for (int j = 0; j < KT; j++) {
                            const bool seen = hsa_sees(s, t, k0 + tx + 16 * j);
                            const float p = seen ? expf(sc[i][j] - rowLse[i]) : 0.f;
                            Ss[ty * RQ + i][tx + 16 * j] = p * (dp[i][j] - rowDelta[i]);
                        }
                    }
                    __syncthreads();
                    #pragma unroll 4
                    for (int key = 0; key < BK; key++) {
                        float ds[RQ];
                        #pragma unroll
                        for (int i = 0; i < RQ; i++) ds[i] = Ss[ty * RQ + i][key];
                        #pragma unroll
                        for (int j = 0; j < DT; j++) {
                            const float kk = Ks[key][tx + 16 * j];
                            #pragma unroll
                            for (int i = 0; i < RQ; i++) acc[i][j] += ds[i] * kk;
                        }
                    }
                }
                #pragma unroll
                for (int i = 0; i < RQ; i++) {
                    const int t = q0 + ty * RQ + i;
                    if (t >= s.T) continue;
                    const size_t row = ((size_t)b * s.T + t) * s.NH + h;
                    #pragma unroll
                    for (int j = 0; j < DT; j++) {
                        const int d = tx + 16 * j;
                        if (d < s.HS) dQ[row * s.HS + d] = acc[i][j] * scale;
                    }
                }
            }

            // dK, dV: block (key tile of 32 keys, KV head g; batch b) over query tiles in order, and the
            // group's heads in order inside each query tile.
            template <int DT>
            __device__ __forceinline__ void hsa_fa_backward_key(float* dK, float* dV, const float* dOut,
                                                                const float* delta, const float* lse,
                                                                const float* q, const float* k,
                                                                const float* v, HsaAttentionShape s) {
                constexpr int BQ = 32, HSP = 16 * DT, BK = HSA_FA_BK, RK = BK / 16, QT = BQ / 16;
                __shared__ float Qs[BQ][HSP + 1];
                __shared__ float Gs[BQ][HSP + 1];
                __shared__ float Ks[BK][HSP + 1];
                __shared__ float Vs[BK][HSP + 1];
                __shared__ float Ps[BQ][BK + 1];
                __shared__ float Ss[BQ][BK + 1];
                __shared__ float lseS[BQ], deltaS[BQ];
                const int g = blockIdx.x % s.NKV, k0 = (blockIdx.x / s.NKV) * BK, b = blockIdx.y;
                const int group = s.NH / s.NKV;
                const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
                const float scale = 1.0f / sqrtf((float)s.HS);
                hsa_fa_load<BK, HSP>(Ks, k, s, b, k0, s.NKV, g, 1.0f);
                hsa_fa_load<BK, HSP>(Vs, v, s, b, k0, s.NKV, g, 1.0f);
                float dk[RK][DT], dv[RK][DT];
                #pragma unroll
                for (int i = 0; i < RK; i++)
                    #pragma unroll
                    for (int j = 0; j < DT; j++) { dk[i][j] = 0.f; dv[i][j] = 0.f; }
                int first = 0, last = s.T - 1;
                if (s.causal) { first = k0; last = min(s.T - 1, k0 + BK - 1 + s.window - 1); }
                for (int t0 = (first / BQ) * BQ; t0 <= last; t0 += BQ) {
                    for (int h = g * group; h < (g + 1) * group; h++) {
                        __syncthreads();  // the previous tile's readers are done
                        hsa_fa_load<BQ, HSP>(Qs, q, s, b, t0, s.NH, h, scale);
                        hsa_fa_load<BQ, HSP>(Gs, dOut, s, b, t0, s.NH, h, 1.0f);
                        if (threadIdx.x < BQ) {
                            const int t = min(t0 + (int)threadIdx.x, s.T - 1);
                            const size_t row = ((size_t)b * s.T + t) * s.NH + h;
                            lseS[threadIdx.x] = lse[row];
                            deltaS[threadIdx.x] = delta[row];
                        }
                        __syncthreads();
                        // Thread (ty, tx): keys ty * RK + i, queries tx + 16 j.
                        float sc[RK][QT], dp[RK][QT];
                        #pragma unroll
                        for (int i = 0; i < RK; i++)
                            #pragma unroll
                            for (int j = 0; j < QT; j++) { sc[i][j] = 0.f; dp[i][j] = 0.f; }
                        #pragma unroll 8
                        for (int d = 0; d < HSP; d++) {
                            float kv[RK], vv[RK], qv[QT], gv[QT];
                            #pragma unroll
                            for (int i = 0; i < RK; i++) { kv[i] = Ks[ty * RK + i][d]; vv[i] = Vs[ty * RK + i][d]; }
                            #pragma unroll
                            for (int j = 0; j < QT; j++) { qv[j] = Qs[tx + 16 * j][d]; gv[j] = Gs[tx + 16 * j][d]; }
                            #pragma unroll
                            for (int i = 0; i < RK; i++)
                                #pragma unroll
                                for (int j = 0; j < QT; j++) { sc[i][j] += qv[j] * kv[i]; dp[i][j] += gv[j] * vv[i]; }
                        }
                        #pragma unroll
                        for (int i = 0; i < RK; i++) {
                            const int key = k0 + ty * RK + i;
                            #pragma unroll
                            for (int j = 0; j < QT; j++) {
                                const int r = tx + 16 * j;
                                const bool seen = hsa_sees(s, t0 + r, key);
                                const float p = seen ? expf(sc[i][j] - lseS[r]) : 0.f;
                                Ps[r][ty * RK + i] = p;
                                Ss[r][ty * RK + i] = p * (dp[i][j] - deltaS[r]);
                            }
                        }
                        __syncthreads();
                        #pragma unroll 4
                        for (int r = 0; r < BQ; r++) {
                            float p[RK], ds[RK];
                            #pragma unroll
                            for (int i = 0; i < RK; i++) { p[i] = Ps[r][ty * RK + i]; ds[i] = Ss[r][ty * RK + i]; }
                            #pragma unroll
                            for (int j = 0; j < DT; j++) {
                                const float gradient = Gs[r][tx + 16 * j], query = Qs[r][tx + 16 * j];
                                #pragma unroll
                                for (int i = 0; i < RK; i++) {
                                    dv[i][j] += p[i] * gradient;
                                    dk[i][j] += ds[i] * query;
                                }
                            }
                        }
                    }
                }
                #pragma unroll
                for (int i = 0; i < RK; i++) {
                    const int key = k0 + ty * RK + i;
                    if (key >= s.T) continue;
                    const size_t row = ((size_t)b * s.T + key) * s.NKV + g;
                    #pragma unroll
                    for (int j = 0; j < DT; j++) {
                        const int d = tx + 16 * j;
                        if (d < s.HS) { dK[row * s.HS + d] = dk[i][j]; dV[row * s.HS + d] = dv[i][j]; }
                    }
                }
            }

            // Entry points for HS <= 32 (DT = 2).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_attention_forward_hs32_v2(float* out, float* lse, const float* q, const float* k,
                                           const float* v, HsaAttentionShape s) {
                hsa_fa_forward<64, 2>(out, lse, q, k, v, s);
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_attention_backward_query_hs32_v2(float* dQ, const float* dOut, const float* delta,
                                                  const float* lse, const float* q, const float* k,
                                                  const float* v, HsaAttentionShape s) {
                hsa_fa_backward_query<2>(dQ, dOut, delta, lse, q, k, v, s);
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_attention_backward_key_hs32_v2(float* dK, float* dV, const float* dOut,
                                                const float* delta, const float* lse, const float* q,
                                                const float* k, const float* v, HsaAttentionShape s) {
                hsa_fa_backward_key<2>(dK, dV, dOut, delta, lse, q, k, v, s);
            }

            // Entry points for HS <= 64 (DT = 4).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_attention_forward_hs64_v2(float* out, float* lse, const float* q, const float* k,
                                           const float* v, HsaAttentionShape s) {
                hsa_fa_forward<64, 4>(out, lse, q, k, v, s);
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_attention_backward_query_hs64_v2(float* dQ, const float* dOut, const float* delta,
                                                  const float* lse, const float* q, const float* k,
                                                  const float* v, HsaAttentionShape s) {
                hsa_fa_backward_query<4>(dQ, dOut, delta, lse, q, k, v, s);
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_attention_backward_key_hs64_v2(float* dK, float* dV, const float* dOut,
                                                const float* delta, const float* lse, const float* q,
                                                const float* k, const float* v, HsaAttentionShape s) {
                hsa_fa_backward_key<4>(dK, dV, dOut, delta, lse, q, k, v, s);
            }
            """#)
}
