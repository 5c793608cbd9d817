// Helpers shared by the tensor-core modules (sparse_tc.cu, attention_tc.cu): bf16 packing,
// `mma.sync.m16n8k16` (bf16 in, fp32 accumulate) and fragment loads. Fragment coordinates:
// group = lane / 4 (rows group and group + 8 of A and C, column group of B), quad = lane % 4
// (columns 2 quad, 2 quad + 1 and the same + 8 of A, rows of B).

enum TensorCorePrelude {
    static let text = #"""
        typedef unsigned short hsa_bf16_bits;

        __device__ __forceinline__ hsa_bf16_bits hsa_bf16(float x) {
            hsa_bf16_bits bits;
            asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(bits) : "f"(x));
            return bits;
        }

        // Two floats as one bf16x2 register, `lo` in the low half (the smaller index).
        __device__ __forceinline__ unsigned hsa_bf16x2(float lo, float hi) {
            unsigned packed;
            asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(hi), "f"(lo));
            return packed;
        }

        // Two adjacent bf16 (even index) as one register.
        __device__ __forceinline__ unsigned hsa_pair(const hsa_bf16_bits* p) {
            return *reinterpret_cast<const unsigned*>(p);
        }

        // c (16x8, fp32) += a (16x16 bf16, row-major fragments) * b (16x8 bf16, col-major).
        __device__ __forceinline__ void hsa_mma(float* c, const unsigned* a, unsigned b0,
                                                unsigned b1) {
            asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
        }

        __device__ __forceinline__ float2 hsa_load2(const float* p, bool valid) {
            return valid ? *reinterpret_cast<const float2*>(p) : make_float2(0.0f, 0.0f);
        }

        __device__ __forceinline__ void hsa_zero(float acc[8][4]) {
            #pragma unroll
            for (int n = 0; n < 8; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;
        }

        // A fragments of 16 fp32 rows (stride `stride`), zero for rows >= valid:
        // frag[ks] covers columns 16 ks ..< 16 ks + 16.
        __device__ __forceinline__ void hsa_rows_fragments(unsigned frag[4][4],
                                                           const float* rows, long long stride,
                                                           int valid, int HS, int lane) {
            const int group = lane >> 2, quad = lane & 3;
            const bool v0 = group < valid, v1 = group + 8 < valid;
            const float* r0 = rows + group * stride;
            const float* r1 = rows + (group + 8) * stride;
            #pragma unroll
            for (int ks = 0; ks < 4; ++ks) {
                if (ks * 16 >= HS) break;
                const int d = ks * 16 + quad * 2;
                const float2 a = hsa_load2(r0 + d, v0), b = hsa_load2(r1 + d, v1);
                const float2 c = hsa_load2(r0 + d + 8, v0), e = hsa_load2(r1 + d + 8, v1);
                frag[ks][0] = hsa_bf16x2(a.x, a.y);
                frag[ks][1] = hsa_bf16x2(b.x, b.y);
                frag[ks][2] = hsa_bf16x2(c.x, c.y);
                frag[ks][3] = hsa_bf16x2(e.x, e.y);
            }
        }

        // Max and sum over the 4 lanes (one quad) that share a fragment row.
        __device__ __forceinline__ float hsa_quad_max(float x) {
            x = fmaxf(x, __shfl_xor_sync(HSA_FULL_MASK, x, 1));
            return fmaxf(x, __shfl_xor_sync(HSA_FULL_MASK, x, 2));
        }
        __device__ __forceinline__ float hsa_quad_sum(float x) {
            x += __shfl_xor_sync(HSA_FULL_MASK, x, 1);
            return x + __shfl_xor_sync(HSA_FULL_MASK, x, 2);
        }

        """#
}
