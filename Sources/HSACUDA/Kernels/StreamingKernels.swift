// CUDA sources of streaming inference (Streaming/): the chunk key/value store's append (fp32 ->
// fp32 or bf16 records in device or mapped host segments), top-k chunk selection of a block of
// rows over every stored chunk, and sparse attention over the selected records with the layer's
// key norm applied on the fly. Mirrors `CPU.streamingSparseAttentionForward`.
// Letters: N rows, NC chunks, NH / NKV heads, G = NH / NKV, HS head size, DR retrieval head
// size, S chunk size, K top-k. Records are (2, S, NKV, HS); chunk c lives in segment c / CPS at
// record c % CPS (CPS chunks per segment), segments given as a device table of addresses.

extension KernelSource {
    /// Streaming kernels (compiled on first use, like `.sparse`).
    public static let streaming = KernelSource(
        name: "streaming.cu", body: StreamingKernelText.body)
}

enum StreamingKernelText {
    static let body = #"""
        #define HSA_STREAM_MAX_K 64  // CUDABackend.maxTopK: lane r keeps list slots r and r + 32

        // Record element `e` of chunk `c` (segment table `segments`, `cps` chunks per segment).
        __device__ __forceinline__ float hsa_stream_load(
            const unsigned long long* segments, int cps, long long recordElements, int c,
            long long e, int bf16) {
            const long long at = (long long)(c % cps) * recordElements + e;
            const char* base = (const char*)segments[c / cps];
            if (bf16) {
                const unsigned short bits = ((const unsigned short*)base)[at];
                return __uint_as_float(((unsigned int)bits) << 16);
            }
            return ((const float*)base)[at];
        }

        // Appends `chunks` records at chunk `firstChunk`: keys and values are (chunks * S, NKV*HS)
        // fp32, `half` = S * NKV * HS. bf16 rounds to nearest even like CPU.bfloat16Bits.
        extern "C" __global__ void hsa_stream_kv_append_v1(
            const unsigned long long* segments, int cps, int firstChunk, const float* keys,
            const float* values, int chunks, long long half, int bf16) {
            const long long total = (long long)chunks * 2 * half;
            for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
                 i += (long long)gridDim.x * blockDim.x) {
                const long long j = i / (2 * half), r = i % (2 * half);
                const float x = r < half ? keys[j * half + r] : values[j * half + r - half];
                const int c = firstChunk + (int)j;
                const long long at = (long long)(c % cps) * 2 * half + r;
                char* base = (char*)segments[c / cps];
                if (bf16) {
                    const unsigned int bits = __float_as_uint(x);
                    const unsigned int rounding = 0x7FFFu + ((bits >> 16) & 1u);
                    ((unsigned short*)base)[at] = (unsigned short)((bits + rounding) >> 16);
                } else {
                    ((float*)base)[at] = x;
                }
            }
        }

        // (score a, index a) ranks before (score b, index b): larger score, then lower index;
        // index -1 is an empty entry and ranks last.
        __device__ __forceinline__ bool hsa_stream_before(float as, int ai, float bs, int bi) {
            if (ai < 0) return false;
            if (bi < 0) return true;
            return as > bs || (as == bs && ai < bi);
        }

        // Top-k chunk selection over one part of the chunk range. Block (16 rows, KV head g,
        // part) of 256 threads, blockIdx.y = part * NKV + g: 16-chunk tiles of the part's
        // landmarks in shared memory, each thread one (row, chunk) score, then one warp per two
        // rows merges the tile into the row's running top-k (K rounds of warp argmax over the
        // old list and the new candidates). Splitting the chunk range keeps the GPU busy when a
        // few rows (decode) scan millions of chunks. Writes the part's list best first to
        // partIndices / partScores (parts, N, NKV, K), -1 / -inf in empty slots; see
        // hsa_stream_select_merge_v1. DR <= 256, K <= 64 (lane r keeps list slots r and r + 32),
        // chunksPerPart a multiple of 16.
        extern "C" __global__ void hsa_stream_select_v2(
            int* partIndices, float* partScores, const float* rq, const float* landmarks,
            const int* eligible, int rows, int nkv, int dr, int topK, float scale,
            int chunksPerPart) {
            __shared__ float qs[16][257];
            __shared__ float lm[16][257];
            __shared__ float tile[16][17];
            __shared__ float topS[16][HSA_STREAM_MAX_K];
            __shared__ int topI[16][HSA_STREAM_MAX_K];
            __shared__ int topN[16];
            __shared__ int elig[16];
            const int row0 = blockIdx.x * 16, g = blockIdx.y % nkv, part = blockIdx.y / nkv;
            const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
            for (int e = tid; e < 16 * dr; e += blockDim.x) {
                const int r = e / dr, d = e % dr;
                qs[r][d] = row0 + r < rows ? rq[((long long)(row0 + r) * nkv + g) * dr + d] : 0.f;
            }
            if (tid < 16) {
                elig[tid] = row0 + tid < rows ? eligible[row0 + tid] : 0;
                topN[tid] = 0;
            }
            __syncthreads();
            int maxEligible = 0;
            for (int r = 0; r < 16; ++r) maxEligible = max(maxEligible, elig[r]);
            const int first = part * chunksPerPart;
            const int end = min(maxEligible, first + chunksPerPart);
            const int myRow = tid >> 4, myChunk = tid & 15;
            for (int c0 = first; c0 < end; c0 += 16) {
                for (int e = tid; e < 16 * dr; e += blockDim.x) {
                    const int cc = e / dr, d = e % dr, c = c0 + cc;
                    lm[cc][d] = c < end ? landmarks[((long long)c * nkv + g) * dr + d] : 0.f;
                }
                __syncthreads();
                float dot = 0.f;
                for (int d = 0; d < dr; ++d) dot += qs[myRow][d] * lm[myChunk][d];
                tile[myRow][myChunk] = dot * scale;
                __syncthreads();
                for (int rr = warp * 2; rr < warp * 2 + 2; ++rr) {
                    const int n = topN[rr], e = min(elig[rr], end);
                    float cs = -INFINITY, ts[2] = {-INFINITY, -INFINITY};
                    int ci = -1, ti[2] = {-1, -1};
                    if (lane < 16 && c0 + lane < e) { cs = tile[rr][lane]; ci = c0 + lane; }
                    #pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        if (lane + 32 * h < n) {
                            ts[h] = topS[rr][lane + 32 * h];
                            ti[h] = topI[rr][lane + 32 * h];
                        }
                    }
                    bool useful = ci >= 0;
                    if (n == topK) {
                        useful = hsa_stream_before(cs, ci, topS[rr][topK - 1], topI[rr][topK - 1]);
                    }
                    if (!__any_sync(HSA_FULL_MASK, useful)) continue;
                    const int fresh = __popc(__ballot_sync(HSA_FULL_MASK, ci >= 0));
                    const int total = min(topK, n + fresh);
                    float ns[2] = {0.f, 0.f};
                    int ni[2] = {-1, -1};
                    for (int k = 0; k < total; ++k) {
                        // the list is best first: a lane's slot r ranks before its r + 32
                        const bool fromTop = hsa_stream_before(ts[0], ti[0], cs, ci);
                        float ws = fromTop ? ts[0] : cs;
                        int wi = fromTop ? ti[0] : ci;
                        const int mine = wi;
                        for (int offset = 16; offset > 0; offset >>= 1) {
                            const float os = __shfl_xor_sync(HSA_FULL_MASK, ws, offset);
                            const int oi = __shfl_xor_sync(HSA_FULL_MASK, wi, offset);
                            if (hsa_stream_before(os, oi, ws, wi)) { ws = os; wi = oi; }
                        }
                        if (mine >= 0 && mine == wi) {
                            if (fromTop) {
                                ts[0] = ts[1];
                                ti[0] = ti[1];
                                ts[1] = -INFINITY;
                                ti[1] = -1;
                            } else {
                                cs = -INFINITY;
                                ci = -1;
                            }
                        }
                        if (lane == (k & 31)) {
                            if (k < 32) { ns[0] = ws; ni[0] = wi; } else { ns[1] = ws; ni[1] = wi; }
                        }
                    }
                    __syncwarp();
                    #pragma unroll
                    for (int h = 0; h < 2; ++h) {
                        if (lane + 32 * h < total) {
                            topS[rr][lane + 32 * h] = ns[h];
                            topI[rr][lane + 32 * h] = ni[h];
                        }
                    }
                    if (lane == 0) topN[rr] = total;
                    __syncwarp();
                }
                __syncthreads();
            }
            for (int rr = warp * 2; rr < warp * 2 + 2; ++rr) {
                const int row = row0 + rr;
                if (row >= rows) continue;
                const long long out = (((long long)part * rows + row) * nkv + g) * topK;
                for (int k = lane; k < topK; k += 32) {
                    const bool kept = k < topN[rr];
                    partIndices[out + k] = kept ? topI[rr][k] : -1;
                    partScores[out + k] = kept ? topS[rr][k] : -INFINITY;
                }
            }
        }

        // Merges the parts' lists of hsa_stream_select_v2 into each (row, KV head g)'s top-k,
        // written in recency order (chunk index descending), -1 / 0 in empty slots. One warp
        // per (row, g): K rounds, each lane offering its best candidate ranked after the last
        // round's winner (a chunk lives in one part only, so the ranking is strict).
        extern "C" __global__ void hsa_stream_select_merge_v1(
            int* indices, float* scores, const int* partIndices, const float* partScores,
            int parts, int rows, int nkv, int topK) {
            __shared__ float keptS[HSA_STREAM_MAX_K];
            __shared__ int keptI[HSA_STREAM_MAX_K];
            const int row = blockIdx.x, g = blockIdx.y, lane = threadIdx.x;
            const long long partStride = (long long)rows * nkv * topK;
            const long long base = ((long long)row * nkv + g) * topK;
            float lastS = INFINITY;
            int lastI = -1, n = 0;
            for (int k = 0; k < topK; ++k) {
                float bs = -INFINITY;
                int bi = -1;
                for (int c = lane; c < parts * topK; c += 32) {
                    const long long at = (c / topK) * partStride + base + c % topK;
                    const int ci = partIndices[at];
                    const float cs = partScores[at];
                    if (ci < 0 || (k > 0 && !hsa_stream_before(lastS, lastI, cs, ci))) continue;
                    if (hsa_stream_before(cs, ci, bs, bi)) { bs = cs; bi = ci; }
                }
                for (int offset = 16; offset > 0; offset >>= 1) {
                    const float os = __shfl_xor_sync(HSA_FULL_MASK, bs, offset);
                    const int oi = __shfl_xor_sync(HSA_FULL_MASK, bi, offset);
                    if (hsa_stream_before(os, oi, bs, bi)) { bs = os; bi = oi; }
                }
                if (bi < 0) break;
                if (lane == 0) { keptS[k] = bs; keptI[k] = bi; }
                lastS = bs;
                lastI = bi;
                n = k + 1;
            }
            __syncwarp();
            for (int k = lane; k < topK; k += 32) {
                if (k < n) {
                    const int mine = keptI[k];
                    int rank = 0;
                    for (int j = 0; j < n; ++j) rank += keptI[j] > mine ? 1 : 0;
                    indices[base + rank] = mine;
                    scores[base + rank] = keptS[k];
                } else {
                    indices[base + k] = -1;
                    scores[base + k] = 0.f;
                }
            }
        }

        // log(1 + exp(x)) without overflow (CPU.stickSoftplus).
        __device__ __forceinline__ float hsa_stream_softplus(float x) {
            return x > 0.f ? x + log1pf(expf(-x)) : log1pf(expf(x));
        }

        // Sparse attention over the selected records. Block (row, KV head g) of 256 threads;
        // per selected slot: the chunk's keys (key-normed) and values of head g staged in shared
        // memory, the G heads' logits, softmax, and the fused output kept in registers
        // (fusion 0 stick-breaking, 1 softmax, 2 joint: one online softmax over every slot).
        // S * HS <= 4096, S <= 128, G * S <= 1024, G * HS <= 1024, K <= 64.
        extern "C" __global__ void hsa_stream_sparse_attention_v1(
            float* out, const float* q, const int* indices, const float* scores,
            const unsigned long long* segments, int cps, const float* keyNorm, int nh, int nkv,
            int hs, int S, int topK, int fusion, int bf16, float scale) {
            __shared__ float ks[4224];
            __shared__ float vs[4096];
            __shared__ float qsh[1024];
            __shared__ float probs[1024];
            __shared__ float weight[HSA_STREAM_MAX_K];
            __shared__ int chosen[HSA_STREAM_MAX_K];
            __shared__ float headMax[32], headSum[32], headFactor[32];
            __shared__ int selectedCount;
            const int row = blockIdx.x, g = blockIdx.y, tid = threadIdx.x;
            const int lane = tid & 31, warp = tid >> 5, warps = blockDim.x >> 5;
            const int G = nh / nkv, keyStride = nkv * hs;
            const long long recordElements = 2LL * S * keyStride;
            const long long slots = ((long long)row * nkv + g) * topK;
            for (int e = tid; e < G * hs; e += blockDim.x) {
                qsh[e] = q[((long long)row * nh + g * G) * hs + e];
            }
            if (tid == 0) {
                int m = 0;
                for (int k = 0; k < topK; ++k) {
                    chosen[k] = indices[slots + k];
                    if (chosen[k] >= 0) m = k + 1;
                }
                selectedCount = m;
                if (fusion == 0) {
                    float consumed = 0.f;
                    for (int k = 0; k < m; ++k) {
                        const float s = scores[slots + k];
                        consumed += hsa_stream_softplus(s);
                        weight[k] = expf(s - consumed);
                    }
                } else if (fusion == 1 && m > 0) {
                    float maxScore = -INFINITY;
                    for (int k = 0; k < m; ++k) maxScore = fmaxf(maxScore, scores[slots + k]);
                    float sum = 0.f;
                    for (int k = 0; k < m; ++k) {
                        weight[k] = expf(scores[slots + k] - maxScore);
                        sum += weight[k];
                    }
                    const float inverse = 1.f / sum;
                    for (int k = 0; k < m; ++k) weight[k] *= inverse;
                }
            }
            if (tid < 32) { headMax[tid] = -INFINITY; headSum[tid] = 0.f; }
            __syncthreads();
            const int m = selectedCount;
            float acc[4] = {0.f, 0.f, 0.f, 0.f};
            for (int k = 0; k < m; ++k) {
                const int c = chosen[k];
                for (int e = tid; e < S * hs; e += blockDim.x) {
                    const int j = e / hs, d = e % hs;
                    const long long at = (long long)j * keyStride + g * hs + d;
                    ks[j * (hs + 1) + d] = hsa_stream_load(segments, cps, recordElements, c, at, bf16);
                    vs[j * hs + d] = hsa_stream_load(
                        segments, cps, recordElements, c, (long long)S * keyStride + at, bf16);
                }
                __syncthreads();
                if (keyNorm) {
                    for (int j = warp; j < S; j += warps) {
                        float ss = 0.f;
                        for (int d = lane; d < hs; d += 32) ss += ks[j * (hs + 1) + d] * ks[j * (hs + 1) + d];
                        ss = hsa_warp_sum(ss);
                        const float r = 1.f / sqrtf(ss / (float)hs + 1e-6f);
                        for (int d = lane; d < hs; d += 32) {
                            ks[j * (hs + 1) + d] = ks[j * (hs + 1) + d] * r * keyNorm[d];
                        }
                    }
                    __syncthreads();
                }
                for (int p = tid; p < G * S; p += blockDim.x) {
                    const int h = p / S, j = p % S;
                    float dot = 0.f;
                    for (int d = 0; d < hs; ++d) dot += qsh[h * hs + d] * ks[j * (hs + 1) + d];
                    probs[p] = dot * scale;
                }
                __syncthreads();
                for (int h = warp; h < G; h += warps) {
                    float localMax = -INFINITY;
                    for (int j = lane; j < S; j += 32) localMax = fmaxf(localMax, probs[h * S + j]);
                    localMax = hsa_warp_max(localMax);
                    const float reference = fusion == 2 ? fmaxf(headMax[h], localMax) : localMax;
                    float sum = 0.f;
                    for (int j = lane; j < S; j += 32) {
                        const float p = expf(probs[h * S + j] - reference);
                        probs[h * S + j] = p;
                        sum += p;
                    }
                    sum = hsa_warp_sum(sum);
                    __syncwarp();
                    if (lane == 0) {
                        if (fusion == 2) {
                            const float factor = headMax[h] == -INFINITY ? 0.f : expf(headMax[h] - reference);
                            headFactor[h] = factor;
                            headSum[h] = headSum[h] * factor + sum;
                            headMax[h] = reference;
                        } else {
                            headSum[h] = sum;
                        }
                    }
                }
                __syncthreads();
                for (int i = 0; i < 4; ++i) {
                    const int p = tid + i * blockDim.x;
                    if (p >= G * hs) break;
                    const int h = p / hs, d = p % hs;
                    float o = 0.f;
                    for (int j = 0; j < S; ++j) o += probs[h * S + j] * vs[j * hs + d];
                    if (fusion == 2) {
                        acc[i] = acc[i] * headFactor[h] + o;
                    } else {
                        acc[i] += weight[k] * (o / headSum[h]);
                    }
                }
                __syncthreads();
            }
            for (int i = 0; i < 4; ++i) {
                const int p = tid + i * blockDim.x;
                if (p >= G * hs) break;
                const int h = p / hs;
                float y = acc[i];
                if (fusion == 2) y = m > 0 ? y / headSum[h] : 0.f;
                out[((long long)row * nh + g * G) * hs + p] = m > 0 ? y : 0.f;
            }
        }
        """#
}
