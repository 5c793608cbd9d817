// CUDA sources of dense attention (causal sliding window or bidirectional, grouped-query
// heads) on bf16 tensor cores (v3), the semantics of AttentionKernels.swift. Inputs and
// outputs stay fp32 in memory; Q, K, V, dOut and the probabilities are rounded to bf16 as
// they enter `mma.sync.m16n8k16` (fp32 accumulation, fp32 softmax statistics). Used when
// `CUDABackend.attentionPrecision` is bf16 on an sm_80+ device and HS is a multiple of 16 up
// to 64; the delta kernel (rowsum dOut * out) stays v1's.
//
// FlashAttention-2 layout: a block is 4 warps x 16 rows (queries for the forward and dQ, keys
// for dK/dV); the other side streams through shared memory in tiles of 64 rows staged as
// bf16 row-major: read directly when the head dimension is the MMA's k, through ldmatrix
// .trans when the tile's rows are. A warp's 16 x 64 logits stay in registers, and their
// accumulator layout is the A-operand layout of the next product. Letters: B batch,
// T sequence, NH query heads, NKV key/value heads, G = NH / NKV, HS head size; q, out, dOut
// (B, T, NH, HS); k, v (B, T, NKV, HS); lse, delta (B, T, NH). No atomics: every output row
// is summed by one warp in a fixed order.

extension KernelSource {
    /// Dense attention forward and backward on bf16 tensor cores (sm_80+, compiled on first
    /// use).
    public static let attentionTensorCore = KernelSource(
        name: "attention_tc.cu",
        body: TensorCorePrelude.text + AttentionTensorCoreKernelText.body)
}

enum AttentionTensorCoreKernelText {
    static let body = #"""
        #define HSA_ATC_ROWS 64  // rows a block owns: 4 warps x 16
        #define HSA_ATC_TILE 64  // rows of the other side per shared-memory step
        #define HSA_ATC_PAD 72   // shared row stride in bf16 (conflict-free pair loads)

        struct HsaAttentionShape { int B, T, NH, NKV, HS, causal, window; };

        __device__ __forceinline__ bool hsa_atc_sees(const HsaAttentionShape& s, int t,
                                                     int key) {
            if (t >= s.T || key < 0 || key >= s.T) return false;
            return !s.causal || (key <= t && key > t - s.window);
        }

        // Rows [row0, row0 + 64) of head `head` of a (B, T, heads, HS) tensor into `rows` in
        // bf16; rows outside [0, T) are zero. Each of the 128 threads first issues all its
        // 16-byte loads (64 rows x HS/4 float4 <= 8 per thread), then converts and stores, so
        // the loads are in flight together instead of one at a time.
        __device__ __forceinline__ void hsa_atc_stage(hsa_bf16_bits (*rows)[HSA_ATC_PAD],
                                                      const float* __restrict__ source,
                                                      const HsaAttentionShape& s, int b,
                                                      int row0, int heads, int head) {
            const int quads = s.HS >> 2, total = HSA_ATC_TILE * quads;
            float4 x[8];
            #pragma unroll
            for (int i = 0; i < 8; ++i) {
                const int e = threadIdx.x + i * 128, t = row0 + e / quads;
                x[i] = e < total && t >= 0 && t < s.T
                    ? *reinterpret_cast<const float4*>(
                          source + (((long long)b * s.T + t) * heads + head) * s.HS
                          + (e % quads) * 4)
                    : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            }
            #pragma unroll
            for (int i = 0; i < 8; ++i) {
                const int e = threadIdx.x + i * 128;
                if (e < total)
                    *reinterpret_cast<uint2*>(&rows[e / quads][(e % quads) * 4]) =
                        make_uint2(hsa_bf16x2(x[i].x, x[i].y), hsa_bf16x2(x[i].z, x[i].w));
            }
        }

        // Four 8x8 bf16 matrices from shared memory, transposed (ldmatrix .trans): lanes
        // 8 m ..< 8 m + 8 give the row addresses of matrix m, register m gets its fragment.
        __device__ __forceinline__ void hsa_ldmatrix_transposed(unsigned r[4],
                                                                const hsa_bf16_bits* row) {
            const unsigned address = (unsigned)__cvta_generic_to_shared(row);
            asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                         : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                         : "r"(address));
        }

        // acc[nt] (16 x 64) = A (16, HS) . tile^T for a row-major staged tile (64, HS).
        __device__ __forceinline__ void hsa_atc_times_tile(float acc[8][4], const unsigned a[4][4],
                                                           hsa_bf16_bits (*tile)[HSA_ATC_PAD],
                                                           int HS, int lane) {
            const int group = lane >> 2, quad = lane & 3;
            #pragma unroll
            for (int nt = 0; nt < 8; ++nt) {
                acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0.0f;
                const hsa_bf16_bits* row = &tile[nt * 8 + group][quad * 2];
                #pragma unroll
                for (int ks = 0; ks < 4; ++ks) {
                    if (ks * 16 >= HS) break;
                    hsa_mma(acc[nt], a[ks], hsa_pair(row + ks * 16), hsa_pair(row + ks * 16 + 8));
                }
            }
        }

        // acc[nd] (16 x HS) += P (16 x 64, accumulator tiles) . M for a row-major staged tile
        // M (64, HS): B[k = row][n = d] pairs run down a column, so each 16 x 16 block comes
        // from ldmatrix .trans (rows 16 kk + lane % 16, columns 16 nd2 + 8 (lane / 16)).
        __device__ __forceinline__ void hsa_atc_accumulate(float acc[8][4], const float p[8][4],
                                                           hsa_bf16_bits (*tile)[HSA_ATC_PAD],
                                                           int HS, int lane) {
            #pragma unroll
            for (int kk = 0; kk < 4; ++kk) {
                const unsigned a[4] = {
                    hsa_bf16x2(p[2 * kk][0], p[2 * kk][1]),
                    hsa_bf16x2(p[2 * kk][2], p[2 * kk][3]),
                    hsa_bf16x2(p[2 * kk + 1][0], p[2 * kk + 1][1]),
                    hsa_bf16x2(p[2 * kk + 1][2], p[2 * kk + 1][3]),
                };
                const hsa_bf16_bits* row = &tile[kk * 16 + (lane & 15)][(lane >> 4) * 8];
                #pragma unroll
                for (int nd2 = 0; nd2 < 4; ++nd2) {
                    if (nd2 * 16 >= HS) break;
                    unsigned b[4];  // b0, b1 of dims 16 nd2 ..< + 8, then of the next 8
                    hsa_ldmatrix_transposed(b, row + nd2 * 16);
                    hsa_mma(acc[2 * nd2], a, b[0], b[1]);
                    hsa_mma(acc[2 * nd2 + 1], a, b[2], b[3]);
                }
            }
        }

        // Two fp32 rows of a warp's (16, HS) accumulator, rows row0 + group (+ 8), into a
        // (B, T, heads, HS) tensor (rows >= T skipped), each multiplied by its factor.
        __device__ __forceinline__ void hsa_atc_store(float* target, const float acc[8][4],
                                                      const HsaAttentionShape& s, int b,
                                                      int row0, int heads, int head,
                                                      float factor0, float factor1, int lane) {
            const int group = lane >> 2, quad = lane & 3;
            #pragma unroll
            for (int half = 0; half < 2; ++half) {
                const int t = row0 + group + 8 * half;
                if (t >= s.T) continue;
                const float factor = half ? factor1 : factor0;
                float* row = target + (((long long)b * s.T + t) * heads + head) * s.HS + quad * 2;
                #pragma unroll
                for (int nd = 0; nd < 8; ++nd) {
                    if (nd * 8 >= s.HS) break;
                    *reinterpret_cast<float2*>(row + nd * 8) = make_float2(
                        acc[nd][2 * half] * factor, acc[nd][2 * half + 1] * factor);
                }
            }
        }

        // Forward: block (64 queries, head h; batch b), online softmax over 64-key tiles.
        extern "C" __global__ void __launch_bounds__(128)
        hsa_attention_forward_v3(float* __restrict__ out, float* __restrict__ lse,
                                 const float* __restrict__ q, const float* __restrict__ k,
                                 const float* __restrict__ v, HsaAttentionShape s) {
            __shared__ hsa_bf16_bits keys[HSA_ATC_TILE][HSA_ATC_PAD];
            __shared__ hsa_bf16_bits values[HSA_ATC_TILE][HSA_ATC_PAD];
            const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            const int group = lane >> 2, quad = lane & 3;
            const int h = blockIdx.x % s.NH, b = blockIdx.y;
            const int g = h / (s.NH / s.NKV), HS = s.HS;
            const float scale = 1.0f / sqrtf((float)HS);
            const int q0 = (blockIdx.x / s.NH) * HSA_ATC_ROWS, row0 = q0 + warp * 16;
            const int t0 = row0 + group, t1 = t0 + 8;
            unsigned qa[4][4];
            hsa_rows_fragments(qa, q + (((long long)b * s.T + row0) * s.NH + h) * HS,
                               (long long)s.NH * HS, s.T - row0, HS, lane);
            int first = 0, last = s.T - 1;
            if (s.causal) {
                first = max(0, q0 - s.window + 1);
                last = min(s.T - 1, q0 + HSA_ATC_ROWS - 1);
            }
            float y[8][4];
            hsa_zero(y);
            float max0 = -INFINITY, max1 = -INFINITY, sum0 = 0.0f, sum1 = 0.0f;
            for (int k0 = first; k0 <= last; k0 += HSA_ATC_TILE) {
                __syncthreads();  // the previous tile is consumed
                hsa_atc_stage(keys, k, s, b, k0, s.NKV, g);
                hsa_atc_stage(values, v, s, b, k0, s.NKV, g);
                __syncthreads();
                float p[8][4];
                hsa_atc_times_tile(p, qa, keys, HS, lane);
                float tile0 = -INFINITY, tile1 = -INFINITY;
                #pragma unroll
                for (int nt = 0; nt < 8; ++nt) {
                    #pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int key = k0 + nt * 8 + quad * 2 + (e & 1);
                        p[nt][e] = hsa_atc_sees(s, e < 2 ? t0 : t1, key) ? p[nt][e] * scale
                                                                          : -INFINITY;
                    }
                    tile0 = fmaxf(tile0, fmaxf(p[nt][0], p[nt][1]));
                    tile1 = fmaxf(tile1, fmaxf(p[nt][2], p[nt][3]));
                }
                const float new0 = fmaxf(max0, hsa_quad_max(tile0));
                const float new1 = fmaxf(max1, hsa_quad_max(tile1));
                // A row that has seen no key yet keeps max -inf: exponentiate against 0.
                const float base0 = new0 == -INFINITY ? 0.0f : new0;
                const float base1 = new1 == -INFINITY ? 0.0f : new1;
                const float alpha0 = expf(max0 - base0), alpha1 = expf(max1 - base1);
                float part0 = 0.0f, part1 = 0.0f;
                #pragma unroll
                for (int nt = 0; nt < 8; ++nt) {
                    p[nt][0] = expf(p[nt][0] - base0);
                    p[nt][1] = expf(p[nt][1] - base0);
                    p[nt][2] = expf(p[nt][2] - base1);
                    p[nt][3] = expf(p[nt][3] - base1);
                    part0 += p[nt][0] + p[nt][1];
                    part1 += p[nt][2] + p[nt][3];
                }
                sum0 = sum0 * alpha0 + hsa_quad_sum(part0);
                sum1 = sum1 * alpha1 + hsa_quad_sum(part1);
                max0 = new0;
                max1 = new1;
                #pragma unroll
                for (int nd = 0; nd < 8; ++nd) {
                    y[nd][0] *= alpha0;
                    y[nd][1] *= alpha0;
                    y[nd][2] *= alpha1;
                    y[nd][3] *= alpha1;
                }
                hsa_atc_accumulate(y, p, values, HS, lane);
            }
            hsa_atc_store(out, y, s, b, row0, s.NH, h, 1.0f / sum0, 1.0f / sum1, lane);
            float* lseRows = lse + ((long long)b * s.T + t0) * s.NH + h;  // rows t0, t0 + 8
            if (quad == 0 && t0 < s.T) lseRows[0] = max0 + logf(sum0);
            if (quad == 0 && t1 < s.T) lseRows[8LL * s.NH] = max1 + logf(sum1);
        }

        // dQ (overwritten): block (64 queries, head h; batch b) over 64-key tiles;
        // dQ = scale sum_j p_j (dOut . v_j - delta) k_j.
        extern "C" __global__ void __launch_bounds__(128)
        hsa_attention_backward_query_v3(float* __restrict__ dQ, const float* __restrict__ dOut,
                                        const float* __restrict__ delta,
                                        const float* __restrict__ lse,
                                        const float* __restrict__ q,
                                        const float* __restrict__ k,
                                        const float* __restrict__ v, HsaAttentionShape s) {
            __shared__ hsa_bf16_bits keys[HSA_ATC_TILE][HSA_ATC_PAD];
            __shared__ hsa_bf16_bits values[HSA_ATC_TILE][HSA_ATC_PAD];
            const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            const int group = lane >> 2, quad = lane & 3;
            const int h = blockIdx.x % s.NH, b = blockIdx.y;
            const int g = h / (s.NH / s.NKV), HS = s.HS;
            const float scale = 1.0f / sqrtf((float)HS);
            const int q0 = (blockIdx.x / s.NH) * HSA_ATC_ROWS, row0 = q0 + warp * 16;
            const int t0 = row0 + group, t1 = t0 + 8;
            const long long rowBase = ((long long)b * s.T + row0) * s.NH + h;
            unsigned qa[4][4], da[4][4];
            hsa_rows_fragments(qa, q + rowBase * HS, (long long)s.NH * HS, s.T - row0, HS, lane);
            hsa_rows_fragments(da, dOut + rowBase * HS, (long long)s.NH * HS, s.T - row0, HS,
                               lane);
            const long long stat0 = ((long long)b * s.T + t0) * s.NH + h;
            const long long stat1 = stat0 + 8LL * s.NH;
            const float lse0 = t0 < s.T ? lse[stat0] : 0.0f, lse1 = t1 < s.T ? lse[stat1] : 0.0f;
            const float delta0 = t0 < s.T ? delta[stat0] : 0.0f;
            const float delta1 = t1 < s.T ? delta[stat1] : 0.0f;
            int first = 0, last = s.T - 1;
            if (s.causal) {
                first = max(0, q0 - s.window + 1);
                last = min(s.T - 1, q0 + HSA_ATC_ROWS - 1);
            }
            float dq[8][4];
            hsa_zero(dq);
            for (int k0 = first; k0 <= last; k0 += HSA_ATC_TILE) {
                __syncthreads();
                hsa_atc_stage(keys, k, s, b, k0, s.NKV, g);
                hsa_atc_stage(values, v, s, b, k0, s.NKV, g);
                __syncthreads();
                float p[8][4], dp[8][4];
                hsa_atc_times_tile(p, qa, keys, HS, lane);
                hsa_atc_times_tile(dp, da, values, HS, lane);
                #pragma unroll
                for (int nt = 0; nt < 8; ++nt) {
                    #pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int key = k0 + nt * 8 + quad * 2 + (e & 1);
                        const bool top = e < 2;
                        const float prob = hsa_atc_sees(s, top ? t0 : t1, key)
                            ? expf(p[nt][e] * scale - (top ? lse0 : lse1)) : 0.0f;
                        p[nt][e] = prob * (dp[nt][e] - (top ? delta0 : delta1)) * scale;
                    }
                }
                hsa_atc_accumulate(dq, p, keys, HS, lane);
            }
            hsa_atc_store(dQ, dq, s, b, row0, s.NH, h, 1.0f, 1.0f, lane);
        }

        // dK, dV (overwritten): block (64 keys, KV head g, head slice z; batch b) over the
        // slice's heads of the group and 64-query tiles; warp w owns keys 16 w ..< 16 w + 16,
        // its K and V rows held as A fragments: S^T = K Q^T, dP^T = V dOut^T, dV += P^T dOut,
        // dK += dLogits^T Q. With `splits` > 1 the group's G heads are cut into `splits`
        // slices of `perSplit` (more blocks when B T NKV / 64 alone would leave SMs idle);
        // slice z writes its sums to the z-th (B, T, NKV, HS) block of dK and dV, which the
        // reduce kernel below adds in slice order.
        extern "C" __global__ void __launch_bounds__(128)
        hsa_attention_backward_key_v3(float* __restrict__ dK, float* __restrict__ dV,
                                      const float* __restrict__ dOut,
                                      const float* __restrict__ delta,
                                      const float* __restrict__ lse,
                                      const float* __restrict__ q, const float* __restrict__ k,
                                      const float* __restrict__ v, HsaAttentionShape s,
                                      int splits, int perSplit) {
            __shared__ hsa_bf16_bits queries[HSA_ATC_TILE][HSA_ATC_PAD];
            __shared__ hsa_bf16_bits gradients[HSA_ATC_TILE][HSA_ATC_PAD];  // dOut
            __shared__ float tileLse[HSA_ATC_TILE];
            __shared__ float tileDelta[HSA_ATC_TILE];
            const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            const int group = lane >> 2, quad = lane & 3;
            const int z = blockIdx.x % splits, g = (blockIdx.x / splits) % s.NKV;
            const int b = blockIdx.y;
            const int G = s.NH / s.NKV, HS = s.HS;
            const float scale = 1.0f / sqrtf((float)HS);
            const int key0 = (blockIdx.x / (splits * s.NKV)) * HSA_ATC_ROWS;
            const int row0 = key0 + warp * 16;
            const int j0 = row0 + group, j1 = j0 + 8;
            const long long keyBase = ((long long)b * s.T + row0) * s.NKV + g;
            unsigned ka[4][4], va[4][4];
            hsa_rows_fragments(ka, k + keyBase * HS, (long long)s.NKV * HS, s.T - row0, HS, lane);
            hsa_rows_fragments(va, v + keyBase * HS, (long long)s.NKV * HS, s.T - row0, HS, lane);
            int first = 0, last = s.T - 1;
            if (s.causal) {
                first = key0;
                last = min(s.T - 1, key0 + HSA_ATC_ROWS - 1 + s.window - 1);
            }
            float dk[8][4], dv[8][4];
            hsa_zero(dk);
            hsa_zero(dv);
            const int endHead = min(G, (z + 1) * perSplit);
            for (int hh = z * perSplit; hh < endHead; ++hh) {
                const int h = g * G + hh;
                for (int q0 = first; q0 <= last; q0 += HSA_ATC_TILE) {
                    __syncthreads();
                    hsa_atc_stage(queries, q, s, b, q0, s.NH, h);
                    hsa_atc_stage(gradients, dOut, s, b, q0, s.NH, h);
                    for (int r = threadIdx.x; r < HSA_ATC_TILE; r += blockDim.x) {
                        const int t = q0 + r;
                        const long long stat = ((long long)b * s.T + t) * s.NH + h;
                        tileLse[r] = t < s.T ? lse[stat] : 0.0f;
                        tileDelta[r] = t < s.T ? delta[stat] : 0.0f;
                    }
                    __syncthreads();
                    float p[8][4], dp[8][4];  // (16 keys, 64 queries)
                    hsa_atc_times_tile(p, ka, queries, HS, lane);
                    hsa_atc_times_tile(dp, va, gradients, HS, lane);
                    #pragma unroll
                    for (int nt = 0; nt < 8; ++nt) {
                        #pragma unroll
                        for (int e = 0; e < 4; ++e) {
                            const int r = nt * 8 + quad * 2 + (e & 1);
                            const float prob = hsa_atc_sees(s, q0 + r, e < 2 ? j0 : j1)
                                ? expf(p[nt][e] * scale - tileLse[r]) : 0.0f;
                            p[nt][e] = prob;
                            dp[nt][e] = prob * (dp[nt][e] - tileDelta[r]) * scale;
                        }
                    }
                    hsa_atc_accumulate(dv, p, gradients, HS, lane);
                    hsa_atc_accumulate(dk, dp, queries, HS, lane);
                }
            }
            const long long slice = (long long)z * s.B * s.T * s.NKV * HS;
            hsa_atc_store(dK + slice, dk, s, b, row0, s.NKV, g, 1.0f, 1.0f, lane);
            hsa_atc_store(dV + slice, dv, s, b, row0, s.NKV, g, 1.0f, 1.0f, lane);
        }

        // dK, dV (count floats each) = the sum of `splits` consecutive slices of the
        // partials, in slice order; one thread per float.
        extern "C" __global__ void __launch_bounds__(256)
        hsa_attention_backward_key_reduce_v3(float* __restrict__ dK, float* __restrict__ dV,
                                             const float* __restrict__ partialK,
                                             const float* __restrict__ partialV,
                                             long long count, int splits) {
            const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
            if (e >= count) return;
            float key = partialK[e], value = partialV[e];
            for (int z = 1; z < splits; ++z) {
                key += partialK[z * count + e];
                value += partialV[z * count + e];
            }
            dK[e] = key;
            dV[e] = value;
        }
        """#
}
