// CUDA sources of sparse attention forward and backward on bf16 tensor cores (v2), the
// semantics of the fp32 v1 kernels in SparseKernels.swift. Inputs, outputs and saved tensors
// stay fp32 in memory; Q, K, V, dOut and the probabilities are rounded to bf16 as they enter
// `mma.sync.m16n8k16` (fp32 accumulation), so results match the CPU to bf16 rounding, not fp32.
// Used when `CUDABackend.attentionPrecision` is bf16 and the shape fits (sm_80+, G <= 16,
// HS and S multiples of 16 up to 64, K <= 64); other shapes run the v1 kernels.
//
// The chunks' keys and values are first packed to bf16 per (b, chunk, KV head), row-major
// (S, HS) and transposed (HS, S), each row in the MMA fragments' order
// (`hsa_sparse_pack_chunks_v2`, a few MB): a lane then reads every operand it needs from a
// chunk row with 8-byte loads, and each (token, chunk) pair re-reads half the bytes of the
// fp32 rows from L2.
//
// One m16n8k16 tile row per query head: the G heads of a KV group are the 16 rows of the A
// operand (rows >= G are zero), so one warp computes a token's logits against a whole chunk
// with S/8 x HS/16 MMAs and keeps them in registers, FlashAttention-2 style: the accumulator
// layout of Q K^T is the A-operand layout of P V (helpers in TensorCorePrelude.swift).
//
// Key/value gradients without atomics, balanced: the (token, slot) pairs that selected each
// chunk are listed in token order (counts, an offsets scan, a list), cut into pieces of at
// most HSA_TC_PIECE tokens, one block per piece writes a partial (S, HS) pair, and the
// reduce kernel adds each chunk's partials in piece order: deterministic, and the longest
// block is bounded however many tokens select a chunk (early chunks at long T).

extension KernelSource {
    /// Sparse attention forward and backward on bf16 tensor cores (sm_80+, compiled on first use).
    public static let sparseTensorCore = KernelSource(
        name: "sparse_tc.cu", body: TensorCorePrelude.text + SparseTensorCoreKernelText.body)
}

enum SparseTensorCoreKernelText {
    static let body = #"""
        // Blocks per SM asked of ptxas (__launch_bounds__): 3 of the forward, 4 of the
        // per-chunk kernel (measured faster); the per-token backward keeps its ~240 registers
        // (2 blocks: asking for 3 spills and was slower).
        #define HSA_TC_WARPS 4    // tokens per block in the per-token kernels
        #define HSA_TC_BATCH 8    // tokens staged at once by the per-chunk kernel
        #define HSA_TC_PAD 72     // shared row stride (bf16) of staged Q / dOut rows
        #define HSA_TC_PIECE 128  // most tokens one block of the per-chunk kernel handles

        // Packed rows are in fragment order: a row of length L (a multiple of 16) keeps the
        // 4 columns 16 s + 2 quad + {0, 1, 8, 9} of every 16-column step s at 4 quad L/16 +
        // 4 s, so the lane with that quad finds all it needs in L/4 consecutive bf16; word
        // 2 s is the pair for columns 16 s + 2 quad (+1), word 2 s + 1 the pair 8 further.
        __device__ __forceinline__ int hsa_fragment_order(int column, int L) {
            const int step = column >> 4, r = column & 15;
            return ((r & 7) >> 1) * (L >> 2) + step * 4 + ((r >> 3) << 1) + (r & 1);
        }

        // The lane's words of one packed row (L <= 64): 8-byte loads.
        __device__ __forceinline__ void hsa_row_words(unsigned words[8],
                                                      const hsa_bf16_bits* row, int L,
                                                      int quad) {
            const uint2* source = reinterpret_cast<const uint2*>(row + quad * (L >> 2));
            #pragma unroll
            for (int s = 0; s < 4; ++s) {
                if (s * 16 >= L) break;
                const uint2 pair = source[s];
                words[2 * s] = pair.x;
                words[2 * s + 1] = pair.y;
            }
        }

        // A fragments of 16 packed rows of length HS (rows group and group + 8).
        __device__ __forceinline__ void hsa_packed_fragments(unsigned frag[4][4],
                                                             const hsa_bf16_bits* rows, int HS,
                                                             int lane) {
            const int group = lane >> 2, quad = lane & 3;
            unsigned top[8], bottom[8];
            hsa_row_words(top, rows + group * HS, HS, quad);
            hsa_row_words(bottom, rows + (group + 8) * HS, HS, quad);
            #pragma unroll
            for (int ks = 0; ks < 4; ++ks) {
                if (ks * 16 >= HS) break;
                frag[ks][0] = top[2 * ks];
                frag[ks][1] = bottom[2 * ks];
                frag[ks][2] = top[2 * ks + 1];
                frag[ks][3] = bottom[2 * ks + 1];
            }
        }

        // acc[nt] (16 rows x 8 keys, nt < S/8) = A (16, HS) . M^T for a packed (S, HS) chunk
        // matrix M: B[k = d][n = j] comes from row j.
        __device__ __forceinline__ void hsa_times_transposed(float acc[8][4],
                                                             const unsigned a[4][4],
                                                             const hsa_bf16_bits* rows, int HS,
                                                             int S, int lane) {
            const int group = lane >> 2, quad = lane & 3;
            #pragma unroll
            for (int nt = 0; nt < 8; ++nt) {
                if (nt * 8 >= S) break;
                acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0.0f;
                unsigned words[8];
                hsa_row_words(words, rows + (nt * 8 + group) * HS, HS, quad);
                #pragma unroll
                for (int ks = 0; ks < 4; ++ks) {
                    if (ks * 16 >= HS) break;
                    hsa_mma(acc[nt], a[ks], words[2 * ks], words[2 * ks + 1]);
                }
            }
        }

        // acc[nd] (16 rows x 8 dims, nd < HS/8) += P (16, S) . M for the chunk matrix M given
        // transposed, packed (HS, S): B[k = j][n = d] comes from row d. P comes as the
        // accumulator tiles p[nt] of a product with the chunk's keys (FlashAttention-2):
        // tiles 2 kk and 2 kk + 1 are the A fragment of keys 16 kk ..< 16 kk + 16.
        __device__ __forceinline__ void hsa_probabilities_times(float acc[8][4],
                                                                const float p[8][4],
                                                                const hsa_bf16_bits* columns,
                                                                int HS, int S, int lane) {
            const int group = lane >> 2, quad = lane & 3;
            unsigned a[4][4];
            #pragma unroll
            for (int kk = 0; kk < 4; ++kk) {
                if (kk * 16 >= S) break;
                a[kk][0] = hsa_bf16x2(p[2 * kk][0], p[2 * kk][1]);
                a[kk][1] = hsa_bf16x2(p[2 * kk][2], p[2 * kk][3]);
                a[kk][2] = hsa_bf16x2(p[2 * kk + 1][0], p[2 * kk + 1][1]);
                a[kk][3] = hsa_bf16x2(p[2 * kk + 1][2], p[2 * kk + 1][3]);
            }
            #pragma unroll
            for (int nd = 0; nd < 8; ++nd) {
                if (nd * 8 >= HS) break;
                unsigned words[8];
                hsa_row_words(words, columns + (nd * 8 + group) * S, S, quad);
                #pragma unroll
                for (int kk = 0; kk < 4; ++kk) {
                    if (kk * 16 >= S) break;
                    hsa_mma(acc[nd], a[kk], words[2 * kk], words[2 * kk + 1]);
                }
            }
        }

        // A warp's K <= 64 slots: lane r holds slots r and r + 32 (half h: slot r + 32 h).
        // Slot k's value of a per-lane pair, for a warp-uniform k.
        template <typename T>
        __device__ __forceinline__ T hsa_slot(const T pair[2], int k) {
            return __shfl_sync(HSA_FULL_MASK, k < 32 ? pair[0] : pair[1], k & 31);
        }

        // The lane's selected chunks (-1 past K or in empty slots) and how many slots are
        // filled (the selection fills slots 0 ..< count).
        __device__ __forceinline__ int hsa_lane_chunks(int chunk[2], const int* slots, int K,
                                                       int lane) {
            int count = 0;
            #pragma unroll
            for (int h = 0; h < 2; ++h) {
                chunk[h] = lane + 32 * h < K ? slots[lane + 32 * h] : -1;
                count += __popc(__ballot_sync(HSA_FULL_MASK, chunk[h] >= 0));
            }
            return count;
        }

        // Fusion weights of the lane's slots from their scores (slots >= count: 0); fusion 0
        // stick-breaking (prefix sum of softplus over the slots), 1 softmax, 2 joint (none).
        // For K <= 32 the second half adds exact zeros: the same results as one slot a lane.
        __device__ void hsa_lane_fusion_weights(float weight[2], const float score[2], int lane,
                                                int count, int fusion) {
            weight[0] = weight[1] = 0.0f;
            if (fusion == 0) {
                float carried = 0.0f;  // softplus total of the first half's slots
                #pragma unroll
                for (int h = 0; h < 2; ++h) {
                    const bool active = lane + 32 * h < count;
                    const float x = score[h];
                    float consumed = active ? (x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)))
                                            : 0.0f;
                    for (int offset = 1; offset < 32; offset <<= 1) {
                        const float before = __shfl_up_sync(HSA_FULL_MASK, consumed, offset);
                        if (lane >= offset) consumed += before;
                    }
                    consumed += carried;
                    weight[h] = active ? expf(x - consumed) : 0.0f;
                    carried = __shfl_sync(HSA_FULL_MASK, consumed, 31);
                }
            } else if (fusion == 1 && count > 0) {
                const bool a0 = lane < count, a1 = lane + 32 < count;
                const float m = hsa_warp_max(fmaxf(a0 ? score[0] : -INFINITY,
                                                   a1 ? score[1] : -INFINITY));
                const float e0 = a0 ? expf(score[0] - m) : 0.0f;
                const float e1 = a1 ? expf(score[1] - m) : 0.0f;
                const float inverse = 1.0f / hsa_warp_sum(e0 + e1);
                weight[0] = e0 * inverse;
                weight[1] = e1 * inverse;
            }
        }

        // ---------------------------------------------------------------------------------
        // keys, values (B, NC, S, NKV, HS) fp32 -> per (b, chunk, g) at ((b NC + c) NKV + g)
        // S HS: k16, v16 (S, HS) and kt16, vt16 (HS, S) bf16, rows in fragment order. One
        // thread per element.
        extern "C" __global__ void __launch_bounds__(256)
        hsa_sparse_pack_chunks_v2(hsa_bf16_bits* __restrict__ k16,
                                  hsa_bf16_bits* __restrict__ kt16,
                                  hsa_bf16_bits* __restrict__ v16,
                                  hsa_bf16_bits* __restrict__ vt16,
                                  const float* __restrict__ keys,
                                  const float* __restrict__ values, long long elements, int S,
                                  int NKV, int HS) {
            const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
            if (e >= elements) return;
            const int d = (int)(e % HS);
            const int g = (int)((e / HS) % NKV);
            const int j = (int)((e / ((long long)HS * NKV)) % S);
            const long long chunk = e / ((long long)HS * NKV * S);  // b NC + c
            const long long base = (chunk * NKV + g) * S * HS;
            const hsa_bf16_bits key = hsa_bf16(keys[e]), value = hsa_bf16(values[e]);
            const long long row = base + j * HS + hsa_fragment_order(d, HS);
            const long long column = base + d * S + hsa_fragment_order(j, S);
            k16[row] = key;
            kt16[column] = key;
            v16[row] = value;
            vt16[column] = value;
        }

        // rows fp32 -> bf16, one thread per pair of elements (count even): the chunk
        // kernel's copies of q and dOut, which it stages once per (token, chunk) pair.
        extern "C" __global__ void __launch_bounds__(256)
        hsa_sparse_pack_rows_v2(unsigned* __restrict__ packed, const float2* __restrict__ rows,
                                long long pairs) {
            const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
            if (e >= pairs) return;
            const float2 x = rows[e];
            packed[e] = hsa_bf16x2(x.x, x.y);
        }

        // ---------------------------------------------------------------------------------
        // Forward: one warp per (row, KV head), HSA_TC_WARPS per block. Outputs as v1: out,
        // fusionWeights, chunkOutputs (not for joint), chunkLse.
        extern "C" __global__ void __launch_bounds__(HSA_TC_WARPS * 32, 3)
        hsa_sparse_attention_forward_v2(float* __restrict__ out,
                                        float* __restrict__ fusionWeights,
                                        float* __restrict__ chunkOutputs,
                                        float* __restrict__ chunkLse,
                                        const float* __restrict__ q,
                                        const hsa_bf16_bits* __restrict__ k16,
                                        const hsa_bf16_bits* __restrict__ vt16,
                                        const int* __restrict__ indices,
                                        const float* __restrict__ scores, int B, int T, int NH,
                                        int NKV, int HS, int S, int NC, int K, int fusion) {
            const int lane = threadIdx.x & 31, group = lane >> 2, quad = lane & 3;
            const long long item = (long long)blockIdx.x * HSA_TC_WARPS + (threadIdx.x >> 5);
            if (item >= (long long)B * T * NKV) return;
            const int g = (int)(item % NKV);
            const long long row = item / NKV;
            const int b = (int)(row / T);
            const int G = NH / NKV;
            const bool v0 = group < G, v1 = group + 8 < G;
            const float scale = 1.0f / sqrtf((float)HS);
            const long long slot = item * K;                          // (row NKV + g) K
            const long long headBase = row * NH + (long long)g * G;  // first head of the group

            int myChunk[2];
            const int count = hsa_lane_chunks(myChunk, indices + slot, K, lane);
            float myScore[2], myWeight[2];
            #pragma unroll
            for (int h = 0; h < 2; ++h)
                myScore[h] = lane + 32 * h < count ? scores[slot + lane + 32 * h] : 0.0f;
            hsa_lane_fusion_weights(myWeight, myScore, lane, count, fusion);
            #pragma unroll
            for (int h = 0; h < 2; ++h)
                if (lane + 32 * h < K) fusionWeights[slot + lane + 32 * h] = myWeight[h];

            unsigned qa[4][4];
            hsa_rows_fragments(qa, q + headBase * HS, HS, G, HS, lane);
            float y[8][4];  // (16 heads, HS) output
            hsa_zero(y);
            float runMax0 = -INFINITY, runMax1 = -INFINITY, runSum0 = 0.0f, runSum1 = 0.0f;

            for (int k = 0; k < count; ++k) {
                const int c = hsa_slot(myChunk, k);
                const float wk = hsa_slot(myWeight, k);
                const long long packed = (((long long)b * NC + c) * NKV + g) * S * HS;
                float p[8][4];  // (16 heads, S keys): logits, then probabilities
                hsa_times_transposed(p, qa, k16 + packed, HS, S, lane);
                float m0 = -INFINITY, m1 = -INFINITY;
                #pragma unroll
                for (int nt = 0; nt < 8; ++nt) {
                    if (nt * 8 >= S) break;
                    #pragma unroll
                    for (int e = 0; e < 4; ++e) p[nt][e] *= scale;
                    m0 = fmaxf(m0, fmaxf(p[nt][0], p[nt][1]));
                    m1 = fmaxf(m1, fmaxf(p[nt][2], p[nt][3]));
                }
                m0 = hsa_quad_max(m0);
                m1 = hsa_quad_max(m1);
                if (fusion == 2) {  // one softmax over every selected key: online rescaling
                    const float new0 = fmaxf(runMax0, m0), new1 = fmaxf(runMax1, m1);
                    const float alpha0 = expf(runMax0 - new0), alpha1 = expf(runMax1 - new1);
                    #pragma unroll
                    for (int nd = 0; nd < 8; ++nd) {
                        y[nd][0] *= alpha0;
                        y[nd][1] *= alpha0;
                        y[nd][2] *= alpha1;
                        y[nd][3] *= alpha1;
                    }
                    runSum0 *= alpha0;
                    runSum1 *= alpha1;
                    runMax0 = m0 = new0;
                    runMax1 = m1 = new1;
                }
                float sum0 = 0.0f, sum1 = 0.0f;
                #pragma unroll
                for (int nt = 0; nt < 8; ++nt) {
                    if (nt * 8 >= S) break;
                    p[nt][0] = expf(p[nt][0] - m0);
                    p[nt][1] = expf(p[nt][1] - m0);
                    p[nt][2] = expf(p[nt][2] - m1);
                    p[nt][3] = expf(p[nt][3] - m1);
                    sum0 += p[nt][0] + p[nt][1];
                    sum1 += p[nt][2] + p[nt][3];
                }
                sum0 = hsa_quad_sum(sum0);
                sum1 = hsa_quad_sum(sum1);
                if (fusion == 2) {
                    runSum0 += sum0;
                    runSum1 += sum1;
                    hsa_probabilities_times(y, p, vt16 + packed, HS, S, lane);
                    continue;
                }
                float o[8][4];  // (16 heads, HS) output of chunk k
                hsa_zero(o);
                hsa_probabilities_times(o, p, vt16 + packed, HS, S, lane);
                const float inverse0 = 1.0f / sum0, inverse1 = 1.0f / sum1;
                float* lse = chunkLse + headBase * K + k;  // (G, K) column k
                if (quad == 0 && v0) lse[group * K] = m0 + logf(sum0);
                if (quad == 0 && v1) lse[(group + 8) * K] = m1 + logf(sum1);
                // (G, K, HS): rows group and group + 8 of slot k
                float* o0 = chunkOutputs + ((headBase + group) * K + k) * HS + quad * 2;
                float* o1 = o0 + 8LL * K * HS;
                #pragma unroll
                for (int nd = 0; nd < 8; ++nd) {
                    if (nd * 8 >= HS) break;
                    const float2 top = make_float2(o[nd][0] * inverse0, o[nd][1] * inverse0);
                    const float2 bottom = make_float2(o[nd][2] * inverse1, o[nd][3] * inverse1);
                    if (v0) *reinterpret_cast<float2*>(o0 + nd * 8) = top;
                    if (v1) *reinterpret_cast<float2*>(o1 + nd * 8) = bottom;
                    y[nd][0] += wk * top.x;
                    y[nd][1] += wk * top.y;
                    y[nd][2] += wk * bottom.x;
                    y[nd][3] += wk * bottom.y;
                }
            }

            // Empty slots get zero lse and chunk outputs; joint keeps its one lse in slot 0.
            float inverse0 = 1.0f, inverse1 = 1.0f;
            const int firstEmpty = fusion == 2 ? min(count, 1) : count;
            if (fusion == 2 && count > 0) {
                inverse0 = 1.0f / runSum0;
                inverse1 = 1.0f / runSum1;
                if (quad == 0 && v0) chunkLse[(headBase + group) * K] = runMax0 + logf(runSum0);
                if (quad == 0 && v1)
                    chunkLse[(headBase + group + 8) * K] = runMax1 + logf(runSum1);
            }
            const int empty = K - firstEmpty;
            for (int e = lane; e < G * empty; e += 32)
                chunkLse[(headBase + e / empty) * K + firstEmpty + e % empty] = 0.0f;
            if (fusion != 2) {
                for (int e = lane; e < G * (K - count) * HS; e += 32) {
                    const int hk = e / HS, h = hk / (K - count), k = count + hk % (K - count);
                    chunkOutputs[((headBase + h) * K + k) * HS + e % HS] = 0.0f;
                }
            }
            float* y0 = out + (headBase + group) * HS + quad * 2;
            float* y1 = y0 + 8 * HS;
            #pragma unroll
            for (int nd = 0; nd < 8; ++nd) {
                if (nd * 8 >= HS) break;
                if (v0)
                    *reinterpret_cast<float2*>(y0 + nd * 8) =
                        make_float2(y[nd][0] * inverse0, y[nd][1] * inverse0);
                if (v1)
                    *reinterpret_cast<float2*>(y1 + nd * 8) =
                        make_float2(y[nd][2] * inverse1, y[nd][3] * inverse1);
            }
        }

        // ---------------------------------------------------------------------------------
        // Backward, part 1: one warp per (row, KV head). Overwrites dQ and dScores and saves
        // the softmax deltas (G, K) per row for part 2 (as v1).
        extern "C" __global__ void __launch_bounds__(HSA_TC_WARPS * 32)
        hsa_sparse_attention_backward_query_v2(
            float* __restrict__ dQ, float* __restrict__ dScores, float* __restrict__ deltas,
            const float* __restrict__ dOut, const float* __restrict__ out,
            const float* __restrict__ fusionWeights, const float* __restrict__ chunkOutputs,
            const float* __restrict__ chunkLse, const float* __restrict__ q,
            const hsa_bf16_bits* __restrict__ k16, const hsa_bf16_bits* __restrict__ kt16,
            const hsa_bf16_bits* __restrict__ v16, const int* __restrict__ indices,
            const float* __restrict__ scores, int B, int T, int NH, int NKV, int HS, int S,
            int NC, int K, int fusion) {
            const int lane = threadIdx.x & 31, group = lane >> 2, quad = lane & 3;
            const long long item = (long long)blockIdx.x * HSA_TC_WARPS + (threadIdx.x >> 5);
            if (item >= (long long)B * T * NKV) return;
            const int g = (int)(item % NKV);
            const long long row = item / NKV;
            const int b = (int)(row / T);
            const int G = NH / NKV;
            const bool v0 = group < G, v1 = group + 8 < G;
            const float scale = 1.0f / sqrtf((float)HS);
            const long long slot = item * K;
            const long long headBase = row * NH + (long long)g * G;

            int myChunk[2];
            const int count = hsa_lane_chunks(myChunk, indices + slot, K, lane);
            float myWeight[2];
            #pragma unroll
            for (int h = 0; h < 2; ++h)
                myWeight[h] = lane + 32 * h < count ? fusionWeights[slot + lane + 32 * h] : 0.0f;
            const float* dy = dOut + headBase * HS;  // (G, HS)
            unsigned qa[4][4], da[4][4];
            hsa_rows_fragments(qa, q + headBase * HS, HS, G, HS, lane);
            hsa_rows_fragments(da, dy, HS, G, HS, lane);

            // dy . v for the thread's rows group and group + 8 (fp32, v rows vStride apart).
            auto rowDots = [&](const float* v, long long vStride, float& dot0, float& dot1) {
                dot0 = 0.0f;
                dot1 = 0.0f;
                for (int d = quad * 2; d < HS; d += 8) {
                    const float2 a = hsa_load2(dy + group * HS + d, v0);
                    const float2 c = hsa_load2(v + group * vStride + d, v0);
                    const float2 e = hsa_load2(dy + (group + 8) * HS + d, v1);
                    const float2 f = hsa_load2(v + (group + 8) * vStride + d, v1);
                    dot0 += a.x * c.x + a.y * c.y;
                    dot1 += e.x * f.x + e.y * f.y;
                }
                dot0 = hsa_quad_sum(dot0);
                dot1 = hsa_quad_sum(dot1);
            };
            float jointDelta0 = 0.0f, jointDelta1 = 0.0f;
            if (fusion == 2) rowDots(out + headBase * HS, HS, jointDelta0, jointDelta1);

            float dq[8][4];
            hsa_zero(dq);
            // slot k: dL/dw_k = sum over heads of dy . o_k (lane k % 32, half k / 32)
            float myWeightGradient[2] = {0.0f, 0.0f};
            for (int k = 0; k < count; ++k) {
                const int c = hsa_slot(myChunk, k);
                const float wk = fusion == 2 ? 1.0f : hsa_slot(myWeight, k);
                const int lseSlot = fusion == 2 ? 0 : k;
                float delta0 = jointDelta0, delta1 = jointDelta1;
                if (fusion != 2) {
                    float dot0, dot1;
                    rowDots(chunkOutputs + (headBase * K + k) * HS, (long long)K * HS, dot0,
                            dot1);
                    float total = dot0 + dot1;  // over 16 rows: each quad holds its 2 rows
                    for (int offset = 4; offset < 32; offset <<= 1)
                        total += __shfl_xor_sync(HSA_FULL_MASK, total, offset);
                    if (lane == (k & 31)) {
                        if (k < 32) myWeightGradient[0] = total;
                        else myWeightGradient[1] = total;
                    }
                    delta0 = wk * dot0;
                    delta1 = wk * dot1;
                }
                float* delta = deltas + headBase * K + k;  // (G, K) column k
                if (quad == 0 && v0) delta[group * K] = delta0;
                if (quad == 0 && v1) delta[(group + 8) * K] = delta1;
                const float lse0 = v0 ? chunkLse[(headBase + group) * K + lseSlot] : 0.0f;
                const float lse1 = v1 ? chunkLse[(headBase + group + 8) * K + lseSlot] : 0.0f;

                const long long packed = (((long long)b * NC + c) * NKV + g) * S * HS;
                float p[8][4], dp[8][4];
                hsa_times_transposed(p, qa, k16 + packed, HS, S, lane);
                hsa_times_transposed(dp, da, v16 + packed, HS, S, lane);
                #pragma unroll
                for (int nt = 0; nt < 8; ++nt) {
                    if (nt * 8 >= S) break;
                    #pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const float lse = e < 2 ? lse0 : lse1, delta = e < 2 ? delta0 : delta1;
                        const float prob = expf(p[nt][e] * scale - lse);
                        p[nt][e] = prob * (dp[nt][e] * wk - delta) * scale;  // dLogits
                    }
                }
                hsa_probabilities_times(dq, p, kt16 + packed, HS, S, lane);
            }

            // dScores from dL/dw through the fusion's Jacobian (the lane's two slots).
            float dScore[2] = {0.0f, 0.0f};
            if (fusion == 0) {
                float carried = 0.0f;  // gains of the second half's slots (0 for K <= 32)
                #pragma unroll
                for (int h = 1; h >= 0; --h) {
                    const float gain = myWeightGradient[h] * myWeight[h];  // 0 past count
                    float suffix = gain;  // sum over slots >= this one
                    for (int offset = 1; offset < 32; offset <<= 1) {
                        const float after = __shfl_down_sync(HSA_FULL_MASK, suffix, offset);
                        if (lane + offset < 32) suffix += after;
                    }
                    suffix += carried;
                    carried = __shfl_sync(HSA_FULL_MASK, suffix, 0);
                    const int k = lane + 32 * h;
                    const float s = k < count ? scores[slot + k] : 0.0f;
                    dScore[h] = gain - (1.0f / (1.0f + expf(-s))) * suffix;
                }
            } else if (fusion == 1) {
                const float weighted = hsa_warp_sum(myWeight[0] * myWeightGradient[0] +
                                                    myWeight[1] * myWeightGradient[1]);
                #pragma unroll
                for (int h = 0; h < 2; ++h)
                    dScore[h] = myWeight[h] * (myWeightGradient[h] - weighted);
            }
            #pragma unroll
            for (int h = 0; h < 2; ++h) {
                const int k = lane + 32 * h;
                if (k < K) dScores[slot + k] = k < count ? dScore[h] : 0.0f;
            }

            float* dq0 = dQ + (headBase + group) * HS + quad * 2;
            float* dq1 = dq0 + 8 * HS;
            #pragma unroll
            for (int nd = 0; nd < 8; ++nd) {
                if (nd * 8 >= HS) break;
                if (v0)
                    *reinterpret_cast<float2*>(dq0 + nd * 8) = make_float2(dq[nd][0], dq[nd][1]);
                if (v1)
                    *reinterpret_cast<float2*>(dq1 + nd * 8) = make_float2(dq[nd][2], dq[nd][3]);
            }
        }

        // ---------------------------------------------------------------------------------
        // Backward, part 2: the pairs that selected each chunk item (b NKV + g) NC + i of the
        // (B, NKV, NC, T) selection map. Counts (one block per chunk item):
        extern "C" __global__ void __launch_bounds__(128)
        hsa_sparse_chunk_counts_v2(int* __restrict__ counts,
                                   const signed char* __restrict__ map, int T, int S, int NC) {
            __shared__ int shared[32];
            const long long chunkItem = blockIdx.x;
            const signed char* slots = map + chunkItem * T;
            int count = 0;
            for (int t = (int)(chunkItem % NC + 1) * S + threadIdx.x; t < T; t += blockDim.x)
                count += slots[t] >= 0;
            count = hsa_block_sum(count, shared);
            if (threadIdx.x == 0) counts[chunkItem] = count;
        }

        // Exclusive scans (n + 1 entries) of the counts and of their pieces (one block of
        // 1024 threads, each owning a run of consecutive chunk items).
        extern "C" __global__ void __launch_bounds__(1024)
        hsa_sparse_chunk_offsets_v2(int* __restrict__ pairOffsets, int* __restrict__ pieceOffsets,
                                    const int* __restrict__ counts, int n) {
            __shared__ int pairSums[1024];
            __shared__ int pieceSums[1024];
            const int tid = threadIdx.x;
            const int run = (n + 1023) / 1024;
            const int first = min(tid * run, n), end = min(first + run, n);
            int pairs = 0, pieces = 0;
            for (int c = first; c < end; ++c) {
                pairs += counts[c];
                pieces += (counts[c] + HSA_TC_PIECE - 1) / HSA_TC_PIECE;
            }
            pairSums[tid] = pairs;
            pieceSums[tid] = pieces;
            __syncthreads();
            for (int offset = 1; offset < 1024; offset <<= 1) {  // inclusive Hillis-Steele
                const int a = tid >= offset ? pairSums[tid - offset] : 0;
                const int b = tid >= offset ? pieceSums[tid - offset] : 0;
                __syncthreads();
                pairSums[tid] += a;
                pieceSums[tid] += b;
                __syncthreads();
            }
            int pairBase = pairSums[tid] - pairs, pieceBase = pieceSums[tid] - pieces;
            for (int c = first; c < end; ++c) {
                pairOffsets[c] = pairBase;
                pieceOffsets[c] = pieceBase;
                pairBase += counts[c];
                pieceBase += (counts[c] + HSA_TC_PIECE - 1) / HSA_TC_PIECE;
            }
            if (tid == 1023) {
                pairOffsets[n] = pairSums[1023];
                pieceOffsets[n] = pieceSums[1023];
            }
        }

        // The (token, slot) pairs of each chunk item in token order at pairOffsets[item]
        // (one block of 128 threads per chunk item, ballot compaction).
        extern "C" __global__ void __launch_bounds__(128)
        hsa_sparse_chunk_list_v2(int* __restrict__ listTokens, int* __restrict__ listSlots,
                                 const signed char* __restrict__ map,
                                 const int* __restrict__ pairOffsets, int T, int S, int NC) {
            __shared__ int warpCounts[4];
            const int tid = threadIdx.x;
            const long long chunkItem = blockIdx.x;
            const signed char* slots = map + chunkItem * T;
            int base = pairOffsets[chunkItem];
            for (int tile = (int)(chunkItem % NC + 1) * S; tile < T; tile += 128) {
                const int t = tile + tid;
                const int k = t < T ? (int)slots[t] : -1;
                int total;
                const int position = hsa_block_compact(k >= 0, warpCounts, &total);
                if (k >= 0) {
                    listTokens[base + position] = t;
                    listSlots[base + position] = k;
                }
                base += total;
            }
        }

        // Key/value gradient partials: one block per piece (the grid is an upper bound on
        // pieceOffsets[n]; extra blocks exit), S/16 warps; warp w owns key rows 16 w ..< 16 w
        // + 16 of the chunk, its K and V rows held as A fragments. The piece's tokens are
        // staged HSA_TC_BATCH at a time in shared memory (Q and dOut rows in bf16, the heads'
        // lse and delta, the fusion weight). Per token: S^T = K Q^T and dP^T = V dOut^T
        // (keys x heads), then dV += (w P^T) dOut and dK += dLogits^T Q, the heads being
        // the MMA's k dimension.
        extern "C" __global__ void __launch_bounds__(128, 4)
        hsa_sparse_attention_backward_chunk_v2(
            float* __restrict__ partialKeys, float* __restrict__ partialValues,
            const hsa_bf16_bits* __restrict__ dy16, const float* __restrict__ fusionWeights,
            const float* __restrict__ chunkLse, const float* __restrict__ deltas,
            const hsa_bf16_bits* __restrict__ q16, const hsa_bf16_bits* __restrict__ k16,
            const hsa_bf16_bits* __restrict__ v16, const int* __restrict__ listTokens,
            const int* __restrict__ listSlots, const int* __restrict__ pairOffsets,
            const int* __restrict__ pieceOffsets, int B, int T, int NH, int NKV, int HS, int S,
            int NC, int K, int fusion) {
            __shared__ hsa_bf16_bits stagedQ[HSA_TC_BATCH][16][HSA_TC_PAD];
            __shared__ hsa_bf16_bits stagedDy[HSA_TC_BATCH][16][HSA_TC_PAD];
            __shared__ float stagedLse[HSA_TC_BATCH][16];
            __shared__ float stagedDelta[HSA_TC_BATCH][16];
            __shared__ float stagedWeight[HSA_TC_BATCH];
            __shared__ long long stagedRow[HSA_TC_BATCH];  // b T + token
            __shared__ int stagedSlot[HSA_TC_BATCH];
            const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
            const int group = lane >> 2, quad = lane & 3;
            const int n = B * NKV * NC;
            const int piece = blockIdx.x;
            if (piece >= pieceOffsets[n]) return;
            // The chunk item: the last one whose pieces start at or before this piece.
            int lo = 0, hi = n - 1;
            while (lo < hi) {
                const int mid = (lo + hi + 1) >> 1;
                if (pieceOffsets[mid] <= piece) lo = mid; else hi = mid - 1;
            }
            const int i = lo % NC, g = (lo / NC) % NKV, b = lo / (NC * NKV);
            const int first = pairOffsets[lo] + (piece - pieceOffsets[lo]) * HSA_TC_PIECE;
            const int end = min(first + HSA_TC_PIECE, pairOffsets[lo + 1]);
            const int G = NH / NKV;
            const float scale = 1.0f / sqrtf((float)HS);
            const long long packed =
                (((long long)b * NC + i) * NKV + g) * S * HS + warp * 16 * HS;
            unsigned ka[4][4], va[4][4];
            hsa_packed_fragments(ka, k16 + packed, HS, lane);
            hsa_packed_fragments(va, v16 + packed, HS, lane);
            float dk[8][4], dv[8][4];
            hsa_zero(dk);
            hsa_zero(dv);
            const int headTiles = G > 8 ? 2 : 1;
            const int quads = HS / 4;  // 8-byte groups of 4 bf16 per staged row
            for (int start = first; start < end; start += HSA_TC_BATCH) {
                const int batch = min(HSA_TC_BATCH, end - start);
                if (tid < batch) {
                    stagedRow[tid] = (long long)b * T + listTokens[start + tid];
                    stagedSlot[tid] = listSlots[start + tid];
                }
                __syncthreads();
                // Rows of q and dOut: 4 loads per thread in flight before the stores.
                const int total = batch * 16 * quads;
                for (int first4 = tid; first4 < total; first4 += 4 * blockDim.x) {
                    uint2 qv[4], dyv[4];
                    #pragma unroll
                    for (int i = 0; i < 4; ++i) {
                        const int e = first4 + i * blockDim.x;
                        const int m = min(e / (16 * quads), batch - 1), h = (e / quads) % 16;
                        const long long at =
                            (stagedRow[m] * NH + (long long)g * G + h) * HS + (e % quads) * 4;
                        const bool valid = e < total && h < G;
                        qv[i] = valid ? *reinterpret_cast<const uint2*>(q16 + at)
                                      : make_uint2(0u, 0u);
                        dyv[i] = valid ? *reinterpret_cast<const uint2*>(dy16 + at)
                                       : make_uint2(0u, 0u);
                    }
                    #pragma unroll
                    for (int i = 0; i < 4; ++i) {
                        const int e = first4 + i * blockDim.x;
                        if (e >= total) break;
                        const int m = e / (16 * quads), h = (e / quads) % 16, d = (e % quads) * 4;
                        *reinterpret_cast<uint2*>(&stagedQ[m][h][d]) = qv[i];
                        *reinterpret_cast<uint2*>(&stagedDy[m][h][d]) = dyv[i];
                    }
                }
                for (int e = tid; e < batch * 16; e += blockDim.x) {
                    const int m = e / 16, h = e % 16;
                    const long long headBase = stagedRow[m] * NH + (long long)g * G;
                    const int slot = stagedSlot[m];
                    const int lseSlot = fusion == 2 ? 0 : slot;
                    stagedLse[m][h] = h < G ? chunkLse[(headBase + h) * K + lseSlot] : 0.0f;
                    stagedDelta[m][h] = h < G ? deltas[(headBase + h) * K + slot] : 0.0f;
                    if (h == 0)
                        stagedWeight[m] = fusion == 2
                            ? 1.0f : fusionWeights[(stagedRow[m] * NKV + g) * K + slot];
                }
                __syncthreads();
                for (int m = 0; m < batch; ++m) {
                    // S^T and dP^T: (16 keys, 16 heads) as two 8-head tiles.
                    float st[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
                    float dpt[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
                    #pragma unroll
                    for (int nh = 0; nh < 2; ++nh) {
                        if (nh >= headTiles) break;
                        const hsa_bf16_bits* qRow = &stagedQ[m][nh * 8 + group][quad * 2];
                        const hsa_bf16_bits* dyRow = &stagedDy[m][nh * 8 + group][quad * 2];
                        #pragma unroll
                        for (int ks = 0; ks < 4; ++ks) {
                            if (ks * 16 >= HS) break;
                            hsa_mma(st[nh], ka[ks], hsa_pair(qRow + ks * 16),
                                    hsa_pair(qRow + ks * 16 + 8));
                            hsa_mma(dpt[nh], va[ks], hsa_pair(dyRow + ks * 16),
                                    hsa_pair(dyRow + ks * 16 + 8));
                        }
                    }
                    const float wk = stagedWeight[m];
                    float pw[2][4], dl[2][4];  // w P^T and dLogits^T, zero for heads >= G
                    #pragma unroll
                    for (int nh = 0; nh < 2; ++nh) {
                        #pragma unroll
                        for (int e = 0; e < 4; ++e) {
                            const int h = nh * 8 + quad * 2 + (e & 1);
                            const float prob =
                                h < G ? expf(st[nh][e] * scale - stagedLse[m][h]) : 0.0f;
                            pw[nh][e] = prob * wk;
                            dl[nh][e] = prob * (dpt[nh][e] * wk - stagedDelta[m][h]) * scale;
                        }
                    }
                    const unsigned pa[4] = {
                        hsa_bf16x2(pw[0][0], pw[0][1]), hsa_bf16x2(pw[0][2], pw[0][3]),
                        hsa_bf16x2(pw[1][0], pw[1][1]), hsa_bf16x2(pw[1][2], pw[1][3])};
                    const unsigned la[4] = {
                        hsa_bf16x2(dl[0][0], dl[0][1]), hsa_bf16x2(dl[0][2], dl[0][3]),
                        hsa_bf16x2(dl[1][0], dl[1][1]), hsa_bf16x2(dl[1][2], dl[1][3])};
                    // B[k = head][n = dim]: heads 2 quad, 2 quad + 1 (and + 8) of dim
                    // 8 nd + group, two 16-bit loads per register.
                    const int h0 = quad * 2;
                    #pragma unroll
                    for (int nd = 0; nd < 8; ++nd) {
                        if (nd * 8 >= HS) break;
                        const int d = nd * 8 + group;
                        const unsigned dy0 =
                            stagedDy[m][h0][d] | ((unsigned)stagedDy[m][h0 + 1][d] << 16);
                        const unsigned dy1 =
                            stagedDy[m][h0 + 8][d] | ((unsigned)stagedDy[m][h0 + 9][d] << 16);
                        const unsigned q0 =
                            stagedQ[m][h0][d] | ((unsigned)stagedQ[m][h0 + 1][d] << 16);
                        const unsigned q1 =
                            stagedQ[m][h0 + 8][d] | ((unsigned)stagedQ[m][h0 + 9][d] << 16);
                        hsa_mma(dv[nd], pa, dy0, dy1);
                        hsa_mma(dk[nd], la, q0, q1);
                    }
                }
                __syncthreads();  // the staged batch is consumed
            }
            // partial (S, HS): rows 16 warp + group and + 8
            float* key0 = partialKeys + (long long)piece * S * HS + (warp * 16 + group) * HS
                + quad * 2;
            float* value0 = partialValues + (long long)piece * S * HS
                + (warp * 16 + group) * HS + quad * 2;
            #pragma unroll
            for (int nd = 0; nd < 8; ++nd) {
                if (nd * 8 >= HS) break;
                const int d = nd * 8;
                *reinterpret_cast<float2*>(key0 + d) = make_float2(dk[nd][0], dk[nd][1]);
                *reinterpret_cast<float2*>(key0 + 8 * HS + d) = make_float2(dk[nd][2], dk[nd][3]);
                *reinterpret_cast<float2*>(value0 + d) = make_float2(dv[nd][0], dv[nd][1]);
                *reinterpret_cast<float2*>(value0 + 8 * HS + d) =
                    make_float2(dv[nd][2], dv[nd][3]);
            }
        }

        // dKeys/dValues (B, NC, S, NKV, HS) += each chunk's partials in piece order (one
        // thread per element).
        extern "C" __global__ void __launch_bounds__(256)
        hsa_sparse_attention_backward_reduce_v2(
            float* __restrict__ dKeys, float* __restrict__ dValues,
            const float* __restrict__ partialKeys, const float* __restrict__ partialValues,
            const int* __restrict__ pieceOffsets, int B, int NKV, int HS, int S, int NC) {
            const long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
            if (item >= (long long)B * NC * S * NKV * HS) return;
            const int d = (int)(item % HS);
            const int g = (int)((item / HS) % NKV);
            const int j = (int)((item / ((long long)HS * NKV)) % S);
            const long long chunkRow = item / ((long long)HS * NKV * S);  // b NC + i
            const int i = (int)(chunkRow % NC), b = (int)(chunkRow / NC);
            const int chunkItem = (b * NKV + g) * NC + i;
            float key = dKeys[item], value = dValues[item];
            for (int p = pieceOffsets[chunkItem]; p < pieceOffsets[chunkItem + 1]; ++p) {
                key += partialKeys[(long long)p * S * HS + j * HS + d];
                value += partialValues[(long long)p * S * HS + j * HS + d];
            }
            dKeys[item] = key;
            dValues[item] = value;
        }
        """#
}
