// CUDA sources of the four HSA ops (chunk selection and its score backward, sparse attention
// forward and backward), with the semantics of HSACPU's ChunkSelection.swift, SparseAttention
// .swift and SparseAttentionBackward.swift. Letters: B batch, T sequence, NH query heads, NKV
// key/value heads, G = NH / NKV, HS head size, DR retrieval size, S chunk size, NC chunks,
// K top-k. Shape limits (checked by the launchers, see `CUDABackend.sparseKernelsSupport`):
// S * HS <= 4096, S <= 128, G * S <= 1024, G * HS <= 1024, K <= 64, NC <= 2048 for selection.
//
// Determinism: no atomics. Every output element is written by one thread; the chunk gradients
// (dKeys, dValues, dLandmarks) come from an inverted index, the "selection map" (B, NKV, NC, T)
// of int8 slots (-1 = token t did not select chunk i), scanned in token order. Sparse attention
// backward cuts each sequence into the CPU's token blocks (at most 8, whole chunks each), sums
// one partial per (chunk, block) in token order and adds the partials in block order, which is
// the CPU's summation order.

extension KernelSource {
    /// Chunk selection, chunk-score backward, sparse attention forward and backward.
    public static let sparse = KernelSource(name: "sparse.cu", body: SparseKernelText.body)
}

enum SparseKernelText {
    static let body = #"""
        #define HSA_SELECT_MAX_CHUNKS 2048
        #define HSA_SPARSE_TILE 4224   // S * (HS + 1) for S * HS <= 4096, S <= 128
        #define HSA_SPARSE_GS 1024     // G * S
        #define HSA_SPARSE_ROW_THREADS 128  // >= HSA_SPARSE_MAX_K: thread k loads slot k
        #define HSA_SPARSE_MAX_K 64
        #define HSA_SPARSE_CHUNK_THREADS 256

        // The K best of a warp's candidate scores c[0..eligible) (larger score, then lower
        // index; eligible <= 2048, K <= 64), written for tokens [firstToken, endToken) of
        // sequence row `rowBase` (b T) in recency order: slot = number of winners with a larger
        // chunk index; -1 and 0 in empty slots. Lane r keeps winners r and r + 32.
        __device__ void hsa_select_top_k(int* __restrict__ indices, float* __restrict__ scores,
                                         const float* c, int eligible, int K, long long rowBase,
                                         int NKV, int g, int firstToken, int endToken,
                                         int lane) {
            const int selected = min(eligible, K);
            const int none = 0x7fffffff;
            unsigned long long taken = 0ull;  // bit m: candidate lane + 32 m already chosen
            int myIndex[2] = {-1, -1};
            float myScore[2] = {0.0f, 0.0f};
            for (int r = 0; r < selected; ++r) {
                float best = -INFINITY;
                int bestIndex = none;
                for (int m = 0, i = lane; i < eligible; ++m, i += 32) {
                    if ((taken >> m) & 1ull) continue;
                    const float s = c[i];
                    if (bestIndex == none || s > best) { best = s; bestIndex = i; }
                }
                for (int offset = 16; offset > 0; offset >>= 1) {
                    const float otherScore = __shfl_xor_sync(HSA_FULL_MASK, best, offset);
                    const int otherIndex = __shfl_xor_sync(HSA_FULL_MASK, bestIndex, offset);
                    const bool better = otherIndex != none &&
                        (bestIndex == none || otherScore > best ||
                         (otherScore == best && otherIndex < bestIndex));
                    if (better) { best = otherScore; bestIndex = otherIndex; }
                }
                if (lane == (bestIndex & 31)) taken |= 1ull << (bestIndex >> 5);
                if (lane == (r & 31)) { myIndex[r >> 5] = bestIndex; myScore[r >> 5] = best; }
            }
            int position[2] = {0, 0};
            for (int o = 0; o < selected; ++o) {
                const int other = __shfl_sync(HSA_FULL_MASK, myIndex[o >> 5], o & 31);
                if (other > myIndex[0]) ++position[0];
                if (other > myIndex[1]) ++position[1];
            }
            for (int half = 0; half < 2; ++half) {
                const int r = lane + 32 * half;
                if (r >= K) return;
                for (int t = firstToken; t < endToken; ++t) {
                    const long long base = ((rowBase + t) * NKV + g) * K;
                    if (r < selected) {
                        indices[base + position[half]] = myIndex[half];
                        scores[base + position[half]] = myScore[half];
                    } else {
                        indices[base + r] = -1;
                        scores[base + r] = 0.0f;
                    }
                }
            }
        }

        // ---------------------------------------------------------------------------------
        // Chunk selection: one warp per (unit, KV head); a unit is a token (per_token) or a
        // chunk of tokens (per_chunk). Candidates' scores go to shared memory; K rounds of a
        // warp argmax (larger score, then lower index) pick the winners; lane k keeps the k-th
        // winner and its rank by chunk index (descending) is its output slot.
        extern "C" __global__ void __launch_bounds__(128)
        hsa_chunk_select_forward_v1(int* __restrict__ indices, float* __restrict__ scores,
                                    const float* __restrict__ qs, const float* __restrict__ lmk,
                                    int B, int T, int NKV, int DR, int S, int NC, int K,
                                    int perChunk) {
            __shared__ float candidates[4][HSA_SELECT_MAX_CHUNKS];
            const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
            const int unitsPerSequence = perChunk ? (T + S - 1) / S : T;
            const long long item = (long long)blockIdx.x * 4 + warp;
            if (item >= (long long)B * unitsPerSequence * NKV) return;
            const int g = (int)(item % NKV);
            const long long unit = item / NKV;
            const int b = (int)(unit / unitsPerSequence), u = (int)(unit % unitsPerSequence);
            const int firstToken = perChunk ? u * S : u;
            const int endToken = perChunk ? min(u * S + S, T) : u + 1;
            const int eligible = min(firstToken / S, NC);
            const int queryRow = perChunk ? u * S - 1 : u;
            const float scale = 1.0f / sqrtf((float)DR);
            float* c = candidates[warp];
            if (eligible > 0) {
                const float* q = qs + ((long long)b * T + queryRow) * NKV * DR + (long long)g * DR;
                for (int i = lane; i < eligible; i += 32) {
                    const float* l = lmk + (((long long)b * NC + i) * NKV + g) * DR;
                    float dot = 0.0f;
                    for (int d = 0; d < DR; ++d) dot += q[d] * l[d];
                    c[i] = dot * scale;
                }
            }
            __syncwarp();
            hsa_select_top_k(indices, scores, c, eligible, K, (long long)b * T, NKV, g, firstToken,
                             endToken, lane);
        }

        // Chunk selection v2 for NC <= 128, DR <= 256: block (8 units, KV head g, batch b) of
        // 8 warps. The landmarks the block's units may see are staged in shared memory 32 at a
        // time (row stride DR + 1: lanes reading different chunks hit different banks) instead
        // of every lane reading its own landmark rows from global memory. Scores, rounds and
        // outputs as v1 (same dot-product order: identical results).
        extern "C" __global__ void __launch_bounds__(256)
        hsa_chunk_select_forward_v2(int* __restrict__ indices, float* __restrict__ scores,
                                    const float* __restrict__ qs, const float* __restrict__ lmk,
                                    int B, int T, int NKV, int DR, int S, int NC, int K,
                                    int perChunk) {
            __shared__ float landmarks[32 * 257];
            __shared__ float candidates[8][128];
            const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
            const int g = blockIdx.y % NKV, b = blockIdx.y / NKV;
            const int unitsPerSequence = perChunk ? (T + S - 1) / S : T;
            const int lastUnit = min((int)blockIdx.x * 8 + 7, unitsPerSequence - 1);
            const int visible = min((perChunk ? lastUnit * S : lastUnit) / S, NC);
            const int u = blockIdx.x * 8 + warp;
            const int firstToken = perChunk ? u * S : u;
            const int endToken = perChunk ? min(u * S + S, T) : u + 1;
            const int eligible = u < unitsPerSequence ? min(firstToken / S, NC) : 0;
            const int queryRow = perChunk ? u * S - 1 : u;
            const float scale = 1.0f / sqrtf((float)DR);
            const float* q = qs + ((long long)b * T + queryRow) * NKV * DR + (long long)g * DR;
            float* c = candidates[warp];
            for (int first = 0; first < visible; first += 32) {
                __syncthreads();  // the previous group is consumed
                const int rows = min(32, visible - first);
                for (int e = threadIdx.x; e < rows * DR; e += blockDim.x) {
                    const int i = e / DR, d = e % DR;
                    landmarks[i * (DR + 1) + d] =
                        lmk[(((long long)b * NC + first + i) * NKV + g) * DR + d];
                }
                __syncthreads();
                const int i = first + lane;
                if (i < eligible) {
                    const float* l = landmarks + lane * (DR + 1);
                    float dot = 0.0f;
                    for (int d = 0; d < DR; ++d) dot += q[d] * l[d];
                    c[i] = dot * scale;
                }
            }
            if (u >= unitsPerSequence) return;
            __syncwarp();
            hsa_select_top_k(indices, scores, c, eligible, K, (long long)b * T, NKV, g, firstToken,
                             endToken, lane);
        }

        // Selection map (B, NKV, NC, T) int8, pre-filled with -1: the slot in which token t
        // selected chunk i. One thread per (b, t, g).
        extern "C" __global__ void __launch_bounds__(256)
        hsa_selection_map_v1(signed char* __restrict__ map, const int* __restrict__ indices,
                             int B, int T, int NKV, int NC, int K) {
            const long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
            if (item >= (long long)B * T * NKV) return;
            const int g = (int)(item % NKV);
            const long long row = item / NKV;
            const int b = (int)(row / T), t = (int)(row % T);
            const int* slots = indices + item * K;
            for (int k = 0; k < K; ++k) {
                const int i = slots[k];
                if (i < 0 || i >= NC) continue;
                map[(((long long)b * NKV + g) * NC + i) * T + t] = (signed char)k;
            }
        }

        // dRetrievalQuery += (one thread per element): the row's own slots (per_token), or
        // every token of chunk c for row cS - 1 (per_chunk), tokens and slots in order.
        extern "C" __global__ void __launch_bounds__(256)
        hsa_chunk_scores_backward_query_v1(float* __restrict__ dqs,
                                           const float* __restrict__ dScores,
                                           const float* __restrict__ lmk,
                                           const int* __restrict__ indices, int B, int T,
                                           int NKV, int DR, int S, int NC, int K, int perChunk) {
            const long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
            if (item >= (long long)B * T * NKV * DR) return;
            const int d = (int)(item % DR);
            const int g = (int)((item / DR) % NKV);
            const long long row = item / ((long long)DR * NKV);
            const int b = (int)(row / T), r = (int)(row % T);
            int first, end;
            if (perChunk) {
                if ((r + 1) % S != 0) return;
                first = r + 1;
                end = min(first + S, T);
            } else {
                if (r / S == 0) return;
                first = r;
                end = r + 1;
            }
            if (first >= end) return;
            const float scale = 1.0f / sqrtf((float)DR);
            float value = dqs[item];
            for (int t = first; t < end; ++t) {
                const long long slot = (((long long)b * T + t) * NKV + g) * K;
                for (int k = 0; k < K; ++k) {
                    const int i = indices[slot + k];
                    if (i < 0) continue;
                    const float ds = dScores[slot + k] * scale;
                    value += ds * lmk[(((long long)b * NC + i) * NKV + g) * DR + d];
                }
            }
            dqs[item] = value;
        }

        // dLandmarks += : one block per (b, g, chunk), threads over DR, tokens in order.
        extern "C" __global__ void __launch_bounds__(128)
        hsa_chunk_scores_backward_landmarks_v1(float* __restrict__ dLmk,
                                               const float* __restrict__ dScores,
                                               const float* __restrict__ qs,
                                               const signed char* __restrict__ map, int B, int T,
                                               int NKV, int DR, int S, int NC, int K,
                                               int perChunk) {
            const long long chunkItem = blockIdx.x;  // (b * NKV + g) * NC + i
            const int i = (int)(chunkItem % NC);
            const int g = (int)((chunkItem / NC) % NKV);
            const int b = (int)(chunkItem / ((long long)NC * NKV));
            const float scale = 1.0f / sqrtf((float)DR);
            const signed char* slots = map + chunkItem * T;
            for (int d = threadIdx.x; d < DR; d += blockDim.x) {
                float* target = dLmk + (((long long)b * NC + i) * NKV + g) * DR + d;
                float value = *target;
                for (int t = (i + 1) * S; t < T; ++t) {
                    const int k = slots[t];
                    if (k < 0) continue;
                    const long long row = (long long)b * T + t;
                    const float ds = dScores[(row * NKV + g) * K + k] * scale;
                    const int queryRow = perChunk ? (t / S) * S - 1 : t;
                    value += ds * qs[(((long long)b * T + queryRow) * NKV + g) * DR + d];
                }
                *target = value;
            }
        }

        // dLandmarks += (v2): one block of 128 threads per (b, g, chunk). Each tile of 128
        // tokens is compacted (ballot) into a shared list of (query row, dScore * scale) in
        // token order; then thread d adds the listed terms, loads no longer waiting on a
        // branch. Same terms in the same order as v1. DR <= 256.
        extern "C" __global__ void __launch_bounds__(128)
        hsa_chunk_scores_backward_landmarks_v2(float* __restrict__ dLmk,
                                               const float* __restrict__ dScores,
                                               const float* __restrict__ qs,
                                               const signed char* __restrict__ map, int B, int T,
                                               int NKV, int DR, int S, int NC, int K,
                                               int perChunk) {
            __shared__ long long listRows[128];
            __shared__ float listScales[128];
            __shared__ int warpCounts[4];
            const int tid = threadIdx.x;
            const long long chunkItem = blockIdx.x;  // (b * NKV + g) * NC + i
            const int i = (int)(chunkItem % NC);
            const int g = (int)((chunkItem / NC) % NKV);
            const int b = (int)(chunkItem / ((long long)NC * NKV));
            const float scale = 1.0f / sqrtf((float)DR);
            const signed char* slots = map + chunkItem * T;
            float* target = dLmk + (((long long)b * NC + i) * NKV + g) * DR;
            float value0 = tid < DR ? target[tid] : 0.0f;
            float value1 = tid + 128 < DR ? target[tid + 128] : 0.0f;
            for (int tile = (i + 1) * S; tile < T; tile += 128) {
                const int t = tile + tid;
                const int k = t < T ? (int)slots[t] : -1;
                int total;
                const int position = hsa_block_compact(k >= 0, warpCounts, &total);
                if (k >= 0) {
                    const long long row = (long long)b * T + t;
                    const long long queryRow = perChunk ? (long long)b * T + (t / S) * S - 1 : row;
                    listRows[position] = (queryRow * NKV + g) * DR;
                    listScales[position] = dScores[(row * NKV + g) * K + k] * scale;
                }
                __syncthreads();
                for (int n = 0; n < total; ++n) {
                    const float* q = qs + listRows[n];
                    if (tid < DR) value0 += listScales[n] * q[tid];
                    if (tid + 128 < DR) value1 += listScales[n] * q[tid + 128];
                }
            }
            if (tid < DR) target[tid] = value0;
            if (tid + 128 < DR) target[tid + 128] = value1;
        }

        // ---------------------------------------------------------------------------------
        // Sparse attention: helpers.

        // Copies chunk `chunk` of KV head g, (S, HS) rows of (B, NC, S, NKV, HS), into shared
        // memory with row stride HS + 1 (conflict-free for both row and column walks).
        __device__ __forceinline__ void hsa_load_chunk(float* tile,
                                                       const float* __restrict__ source,
                                                       int b, int chunk, int g, int NC, int S,
                                                       int NKV, int HS) {
            const int HP = HS + 1;
            for (int e = threadIdx.x; e < S * HS; e += blockDim.x) {
                const int j = e / HS, d = e - j * HS;
                tile[j * HP + d] =
                    source[((((long long)b * NC + chunk) * S + j) * NKV + g) * HS + d];
            }
        }

        // Fusion weights of one (token, KV head) from the selected scores (thread-local).
        __device__ void hsa_fusion_weights(float* w, const float* s, int count, int K,
                                           int fusion) {
            for (int k = 0; k < K; ++k) w[k] = 0.0f;
            if (fusion == 0) {  // stick-breaking in log space
                float consumed = 0.0f;
                for (int k = 0; k < count; ++k) {
                    const float x = s[k];
                    consumed += x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x));
                    w[k] = expf(x - consumed);
                }
            } else if (fusion == 1 && count > 0) {  // softmax
                float m = -INFINITY;
                for (int k = 0; k < count; ++k) m = fmaxf(m, s[k]);
                float sum = 0.0f;
                for (int k = 0; k < count; ++k) { w[k] = expf(s[k] - m); sum += w[k]; }
                const float inverse = 1.0f / sum;
                for (int k = 0; k < count; ++k) w[k] *= inverse;
            }
        }

        // Logits of the group's heads against the chunk in `ks`: p[hh * S + j] = scale q_hh·k_j.
        __device__ __forceinline__ void hsa_group_logits(float* p, const float* __restrict__ q,
                                                         const float* ks, int G, int S, int HS,
                                                         float scale) {
            const int HP = HS + 1;
            for (int e = threadIdx.x; e < G * S; e += blockDim.x) {
                const int hh = e / S, j = e - hh * S;
                const float* qh = q + (long long)hh * HS;
                const float* kj = ks + j * HP;
                float dot = 0.0f;
                for (int d = 0; d < HS; ++d) dot += qh[d] * kj[d];
                p[e] = dot * scale;
            }
        }

        // ---------------------------------------------------------------------------------
        // Sparse attention forward: one block per (row, KV head). fusion: 0 stick-breaking,
        // 1 softmax, 2 joint.
        extern "C" __global__ void __launch_bounds__(HSA_SPARSE_ROW_THREADS)
        hsa_sparse_attention_forward_v1(float* __restrict__ out, float* __restrict__ fusionWeights,
                                        float* __restrict__ chunkOutputs,
                                        float* __restrict__ chunkLse,
                                        const float* __restrict__ q,
                                        const float* __restrict__ keys,
                                        const float* __restrict__ values,
                                        const int* __restrict__ indices,
                                        const float* __restrict__ scores, int B, int T, int NH,
                                        int NKV, int HS, int S, int NC, int K, int fusion) {
            __shared__ float ks[HSA_SPARSE_TILE];
            __shared__ float vs[HSA_SPARSE_TILE];
            __shared__ float p[HSA_SPARSE_GS];
            __shared__ float weights[HSA_SPARSE_MAX_K];
            __shared__ float headMax[32];
            __shared__ float headSum[32];
            __shared__ int chunks[HSA_SPARSE_MAX_K];
            __shared__ int selectedCount;
            const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
            const int warps = blockDim.x >> 5;
            const int g = (int)(blockIdx.x % NKV);
            const long long row = blockIdx.x / NKV;
            const int b = (int)(row / T);
            const int G = NH / NKV, HP = HS + 1;
            const float scale = 1.0f / sqrtf((float)HS);
            const long long slot = (row * NKV + g) * K;
            if (tid == 0) {
                int count = 0;
                while (count < K && indices[slot + count] >= 0) ++count;
                selectedCount = count;
                float w[HSA_SPARSE_MAX_K];
                hsa_fusion_weights(w, scores + slot, count, K, fusion);
                for (int k = 0; k < K; ++k) {
                    weights[k] = w[k];
                    fusionWeights[slot + k] = w[k];
                }
            }
            if (tid < K) chunks[tid] = indices[slot + tid];
            __syncthreads();
            const int selected = selectedCount;
            const long long headBase = row * NH + (long long)g * G;  // first head of the group
            float* y = out + headBase * HS;                          // (G, HS)
            float* lse = chunkLse + headBase * K;                    // (G, K)
            const float* qg = q + headBase * HS;                     // (G, HS)
            for (int e = tid; e < G * HS; e += blockDim.x) y[e] = 0.0f;
            for (int e = tid; e < G * K; e += blockDim.x) lse[e] = 0.0f;

            if (fusion == 2) {
                if (selected == 0) return;
                // Pass 1: the maximum logit of each head over all selected keys.
                if (tid < G) headMax[tid] = -INFINITY;
                for (int k = 0; k < selected; ++k) {
                    __syncthreads();
                    hsa_load_chunk(ks, keys, b, chunks[k], g, NC, S, NKV, HS);
                    __syncthreads();
                    hsa_group_logits(p, qg, ks, G, S, HS, scale);
                    __syncthreads();
                    for (int hh = warp; hh < G; hh += warps) {
                        float m = -INFINITY;
                        for (int j = lane; j < S; j += 32) m = fmaxf(m, p[hh * S + j]);
                        m = hsa_warp_max(m);
                        if (lane == 0) headMax[hh] = fmaxf(headMax[hh], m);
                    }
                }
                // Pass 2: exponentials, their sums, and Σ p V in slot then key order.
                if (tid < G) headSum[tid] = 0.0f;
                for (int k = 0; k < selected; ++k) {
                    __syncthreads();
                    hsa_load_chunk(ks, keys, b, chunks[k], g, NC, S, NKV, HS);
                    hsa_load_chunk(vs, values, b, chunks[k], g, NC, S, NKV, HS);
                    __syncthreads();
                    hsa_group_logits(p, qg, ks, G, S, HS, scale);
                    __syncthreads();
                    for (int hh = warp; hh < G; hh += warps) {
                        float sum = 0.0f;
                        for (int j = lane; j < S; j += 32) {
                            const float e = expf(p[hh * S + j] - headMax[hh]);
                            p[hh * S + j] = e;
                            sum += e;
                        }
                        sum = hsa_warp_sum(sum);
                        if (lane == 0) headSum[hh] += sum;
                    }
                    __syncthreads();
                    for (int e = tid; e < G * HS; e += blockDim.x) {
                        const int hh = e / HS, d = e - hh * HS;
                        float acc = y[e];
                        for (int j = 0; j < S; ++j) acc += p[hh * S + j] * vs[j * HP + d];
                        y[e] = acc;
                    }
                }
                __syncthreads();
                for (int e = tid; e < G * HS; e += blockDim.x) y[e] *= 1.0f / headSum[e / HS];
                if (tid < G) lse[tid * K] = headMax[tid] + logf(headSum[tid]);
                return;
            }

            float* outputs = chunkOutputs + headBase * K * HS;  // (G, K, HS)
            for (int k = 0; k < K; ++k) {
                if (k >= selected) {
                    for (int e = tid; e < G * HS; e += blockDim.x) {
                        const int hh = e / HS, d = e - hh * HS;
                        outputs[((long long)hh * K + k) * HS + d] = 0.0f;
                    }
                    continue;
                }
                __syncthreads();
                hsa_load_chunk(ks, keys, b, chunks[k], g, NC, S, NKV, HS);
                hsa_load_chunk(vs, values, b, chunks[k], g, NC, S, NKV, HS);
                __syncthreads();
                hsa_group_logits(p, qg, ks, G, S, HS, scale);
                __syncthreads();
                for (int hh = warp; hh < G; hh += warps) {
                    float m = -INFINITY;
                    for (int j = lane; j < S; j += 32) m = fmaxf(m, p[hh * S + j]);
                    m = hsa_warp_max(m);
                    float sum = 0.0f;
                    for (int j = lane; j < S; j += 32) {
                        const float e = expf(p[hh * S + j] - m);
                        p[hh * S + j] = e;
                        sum += e;
                    }
                    sum = hsa_warp_sum(sum);
                    if (lane == 0) {
                        headSum[hh] = 1.0f / sum;
                        lse[hh * K + k] = m + logf(sum);
                    }
                }
                __syncthreads();
                const float wk = weights[k];
                for (int e = tid; e < G * HS; e += blockDim.x) {
                    const int hh = e / HS, d = e - hh * HS;
                    float acc = 0.0f;
                    for (int j = 0; j < S; ++j) acc += p[hh * S + j] * vs[j * HP + d];
                    const float o = acc * headSum[hh];
                    outputs[((long long)hh * K + k) * HS + d] = o;
                    y[e] += wk * o;
                }
            }
        }

        // ---------------------------------------------------------------------------------
        // Sparse attention backward, part 1: one block per (row, KV head). Overwrites dQ and
        // dScores, and saves delta (G, K) per row for part 2: w_k (dy_h · o_hk), or dy_h · y_h
        // for joint.
        extern "C" __global__ void __launch_bounds__(HSA_SPARSE_ROW_THREADS)
        hsa_sparse_attention_backward_query_v1(
            float* __restrict__ dQ, float* __restrict__ dScores, float* __restrict__ deltas,
            const float* __restrict__ dOut, const float* __restrict__ out,
            const float* __restrict__ fusionWeights, const float* __restrict__ chunkOutputs,
            const float* __restrict__ chunkLse, const float* __restrict__ q,
            const float* __restrict__ keys, const float* __restrict__ values,
            const int* __restrict__ indices, const float* __restrict__ scores, int B, int T,
            int NH, int NKV, int HS, int S, int NC, int K, int fusion) {
            __shared__ float ks[HSA_SPARSE_TILE];
            __shared__ float vs[HSA_SPARSE_TILE];
            __shared__ float dl[HSA_SPARSE_GS];
            __shared__ float dyDotO[32 * HSA_SPARSE_MAX_K];  // (G, K)
            __shared__ float weights[HSA_SPARSE_MAX_K];
            __shared__ int chunks[HSA_SPARSE_MAX_K];
            __shared__ int selectedCount;
            const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
            const int warps = blockDim.x >> 5;
            const int g = (int)(blockIdx.x % NKV);
            const long long row = blockIdx.x / NKV;
            const int b = (int)(row / T);
            const int G = NH / NKV, HP = HS + 1;
            const float scale = 1.0f / sqrtf((float)HS);
            const long long slot = (row * NKV + g) * K;
            const long long headBase = row * NH + (long long)g * G;
            if (tid == 0) {
                int count = 0;
                while (count < K && indices[slot + count] >= 0) ++count;
                selectedCount = count;
            }
            if (tid < K) {
                chunks[tid] = indices[slot + tid];
                weights[tid] = fusionWeights[slot + tid];
                dScores[slot + tid] = 0.0f;
            }
            __syncthreads();
            const int selected = selectedCount;
            const float* dy = dOut + headBase * HS;  // (G, HS)
            const float* qg = q + headBase * HS;     // (G, HS)
            float* dq = dQ + headBase * HS;          // (G, HS)
            if (selected == 0) {
                for (int e = tid; e < G * HS; e += blockDim.x) dq[e] = 0.0f;
                return;
            }
            float* delta = deltas + headBase * K;  // (G, K)
            if (fusion != 2) {
                const float* outputs = chunkOutputs + headBase * K * HS;
                for (int pair = warp; pair < G * selected; pair += warps) {
                    const int hh = pair / selected, k = pair - hh * selected;
                    const float* o = outputs + ((long long)hh * K + k) * HS;
                    float dot = 0.0f;
                    for (int d = lane; d < HS; d += 32) dot += dy[hh * HS + d] * o[d];
                    dot = hsa_warp_sum(dot);
                    if (lane == 0) dyDotO[hh * K + k] = dot;
                }
                __syncthreads();
                if (tid == 0) {
                    float dw[HSA_SPARSE_MAX_K];
                    for (int k = 0; k < selected; ++k) {
                        float sum = 0.0f;
                        for (int hh = 0; hh < G; ++hh) sum += dyDotO[hh * K + k];
                        dw[k] = sum;
                    }
                    const float* s = scores + slot;
                    if (fusion == 0) {
                        float suffix = 0.0f;
                        for (int m = selected - 1; m >= 0; --m) {
                            const float gm = dw[m] * weights[m];
                            suffix += gm;
                            dScores[slot + m] = gm - (1.0f / (1.0f + expf(-s[m]))) * suffix;
                        }
                    } else {
                        float weighted = 0.0f;
                        for (int k = 0; k < selected; ++k) weighted += weights[k] * dw[k];
                        for (int k = 0; k < selected; ++k)
                            dScores[slot + k] = weights[k] * (dw[k] - weighted);
                    }
                }
                __syncthreads();  // thread 0 has read dyDotO
                for (int e = tid; e < G * selected; e += blockDim.x) {
                    const int hh = e / selected, k = e - hh * selected;
                    dyDotO[hh * K + k] *= weights[k];
                    delta[hh * K + k] = dyDotO[hh * K + k];
                }
            } else {
                const float* y = out + headBase * HS;
                for (int hh = warp; hh < G; hh += warps) {
                    float dot = 0.0f;
                    for (int d = lane; d < HS; d += 32) dot += dy[hh * HS + d] * y[hh * HS + d];
                    dot = hsa_warp_sum(dot);
                    if (lane == 0) {
                        for (int k = 0; k < selected; ++k) {
                            dyDotO[hh * K + k] = dot;
                            delta[hh * K + k] = dot;
                        }
                    }
                }
            }
            float acc[8];
            #pragma unroll
            for (int m = 0; m < 8; ++m) acc[m] = 0.0f;
            for (int k = 0; k < selected; ++k) {
                __syncthreads();
                hsa_load_chunk(ks, keys, b, chunks[k], g, NC, S, NKV, HS);
                hsa_load_chunk(vs, values, b, chunks[k], g, NC, S, NKV, HS);
                __syncthreads();
                const float wk = fusion == 2 ? 1.0f : weights[k];
                const int lseSlot = fusion == 2 ? 0 : k;
                for (int e = tid; e < G * S; e += blockDim.x) {
                    const int hh = e / S, j = e - hh * S;
                    const float* qh = qg + hh * HS;
                    const float* dyh = dy + hh * HS;
                    float logit = 0.0f, dp = 0.0f;
                    for (int d = 0; d < HS; ++d) {
                        logit += qh[d] * ks[j * HP + d];
                        dp += dyh[d] * vs[j * HP + d];
                    }
                    logit *= scale;
                    dp *= wk;
                    const float prob = expf(logit - chunkLse[(headBase + hh) * K + lseSlot]);
                    dl[e] = prob * (dp - dyDotO[hh * K + k]) * scale;
                }
                __syncthreads();
                #pragma unroll
                for (int m = 0; m < 8; ++m) {
                    const int e = tid + m * HSA_SPARSE_ROW_THREADS;
                    if (e < G * HS) {
                        const int hh = e / HS, d = e - hh * HS;
                        float a = acc[m];
                        for (int j = 0; j < S; ++j) a += dl[hh * S + j] * ks[j * HP + d];
                        acc[m] = a;
                    }
                }
            }
            #pragma unroll
            for (int m = 0; m < 8; ++m) {
                const int e = tid + m * HSA_SPARSE_ROW_THREADS;
                if (e < G * HS) dq[e] = acc[m];
            }
        }

        // Sparse attention backward, part 2: one block per (b, g, chunk i) and token block.
        // Lists the (token, slot) pairs that selected chunk i in the block's tokens, in token
        // order, and sums their key/value gradients into one partial (S, HS) pair.
        extern "C" __global__ void __launch_bounds__(HSA_SPARSE_CHUNK_THREADS)
        hsa_sparse_attention_backward_chunk_v1(
            float* __restrict__ partialKeys, float* __restrict__ partialValues,
            const float* __restrict__ dOut, const float* __restrict__ fusionWeights,
            const float* __restrict__ chunkLse, const float* __restrict__ deltas,
            const float* __restrict__ q, const float* __restrict__ keys,
            const float* __restrict__ values, const signed char* __restrict__ map, int B, int T,
            int NH, int NKV, int HS, int S, int NC, int K, int fusion, int blockTokens,
            int tokenBlocks) {
            __shared__ float ks[HSA_SPARSE_TILE];
            __shared__ float vs[HSA_SPARSE_TILE];
            __shared__ float dl[HSA_SPARSE_GS];
            __shared__ float sp[HSA_SPARSE_GS];
            __shared__ int listTokens[HSA_SPARSE_CHUNK_THREADS];
            __shared__ int listSlots[HSA_SPARSE_CHUNK_THREADS];
            __shared__ int warpCounts[HSA_SPARSE_CHUNK_THREADS / 32];
            const int tid = threadIdx.x;
            const long long chunkItem = blockIdx.x;  // (b * NKV + g) * NC + i
            const int i = (int)(chunkItem % NC);
            const int g = (int)((chunkItem / NC) % NKV);
            const int b = (int)(chunkItem / ((long long)NC * NKV));
            const int block = blockIdx.y;
            const int tokenStart = max(block * blockTokens, (i + 1) * S);
            const int tokenEnd = min((block + 1) * blockTokens, T);
            if (tokenStart >= tokenEnd) return;  // the reduction skips this partial too
            const int G = NH / NKV, HP = HS + 1;
            const float scale = 1.0f / sqrtf((float)HS);
            hsa_load_chunk(ks, keys, b, i, g, NC, S, NKV, HS);
            hsa_load_chunk(vs, values, b, i, g, NC, S, NKV, HS);
            float accK[16], accV[16];
            #pragma unroll
            for (int m = 0; m < 16; ++m) { accK[m] = 0.0f; accV[m] = 0.0f; }
            const signed char* slots = map + chunkItem * T;
            for (int tile = tokenStart; tile < tokenEnd; tile += HSA_SPARSE_CHUNK_THREADS) {
                const int t = tile + tid;
                const int k = t < tokenEnd ? (int)slots[t] : -1;
                int total;
                const int position = hsa_block_compact(k >= 0, warpCounts, &total);
                if (k >= 0) {
                    listTokens[position] = t;
                    listSlots[position] = k;
                }
                __syncthreads();
                for (int n = 0; n < total; ++n) {
                    const int token = listTokens[n], slot = listSlots[n];
                    const long long row = (long long)b * T + token;
                    const long long headBase = row * NH + (long long)g * G;
                    const float wk = fusion == 2 ? 1.0f : fusionWeights[(row * NKV + g) * K + slot];
                    const int lseSlot = fusion == 2 ? 0 : slot;
                    const float* qg = q + headBase * HS;
                    const float* dy = dOut + headBase * HS;
                    for (int e = tid; e < G * S; e += blockDim.x) {
                        const int hh = e / S, j = e - hh * S;
                        const float* qh = qg + hh * HS;
                        const float* dyh = dy + hh * HS;
                        float logit = 0.0f, dp = 0.0f;
                        for (int d = 0; d < HS; ++d) {
                            logit += qh[d] * ks[j * HP + d];
                            dp += dyh[d] * vs[j * HP + d];
                        }
                        logit *= scale;
                        dp *= wk;
                        const float prob = expf(logit - chunkLse[(headBase + hh) * K + lseSlot]);
                        dl[e] = prob * (dp - deltas[(headBase + hh) * K + slot]) * scale;
                        sp[e] = prob * wk;
                    }
                    __syncthreads();
                    #pragma unroll
                    for (int m = 0; m < 16; ++m) {
                        const int e = tid + m * HSA_SPARSE_CHUNK_THREADS;
                        if (e < S * HS) {
                            const int j = e / HS, d = e - j * HS;
                            float a = accK[m], c = accV[m];
                            for (int hh = 0; hh < G; ++hh) {
                                a += dl[hh * S + j] * qg[hh * HS + d];
                                c += sp[hh * S + j] * dy[hh * HS + d];
                            }
                            accK[m] = a;
                            accV[m] = c;
                        }
                    }
                    __syncthreads();
                }
            }
            const long long partial = (chunkItem * tokenBlocks + block) * (long long)S * HS;
            #pragma unroll
            for (int m = 0; m < 16; ++m) {
                const int e = tid + m * HSA_SPARSE_CHUNK_THREADS;
                if (e < S * HS) {
                    partialKeys[partial + e] = accK[m];
                    partialValues[partial + e] = accV[m];
                }
            }
        }

        // Sparse attention backward, part 3: dKeys/dValues += the partials of each chunk in
        // token-block order (one thread per element of (B, NC, S, NKV, HS)).
        extern "C" __global__ void __launch_bounds__(256)
        hsa_sparse_attention_backward_reduce_v1(
            float* __restrict__ dKeys, float* __restrict__ dValues,
            const float* __restrict__ partialKeys, const float* __restrict__ partialValues,
            int B, int T, int NKV, int HS, int S, int NC, int blockTokens, int tokenBlocks) {
            const long long item = (long long)blockIdx.x * blockDim.x + threadIdx.x;
            if (item >= (long long)B * NC * S * NKV * HS) return;
            const int d = (int)(item % HS);
            const int g = (int)((item / HS) % NKV);
            const int j = (int)((item / ((long long)HS * NKV)) % S);
            const long long chunkRow = item / ((long long)HS * NKV * S);  // b * NC + i
            const int i = (int)(chunkRow % NC);
            const int b = (int)(chunkRow / NC);
            const long long chunkItem = ((long long)b * NKV + g) * NC + i;
            float key = dKeys[item], value = dValues[item];
            for (int block = 0; block < tokenBlocks; ++block) {
                const int tokenStart = max(block * blockTokens, (i + 1) * S);
                const int tokenEnd = min((block + 1) * blockTokens, T);
                if (tokenStart >= tokenEnd) continue;
                const long long partial =
                    (chunkItem * tokenBlocks + block) * (long long)S * HS + j * HS + d;
                key += partialKeys[partial];
                value += partialValues[partial];
            }
            dKeys[item] = key;
            dValues[item] = value;
        }
        """#
}
