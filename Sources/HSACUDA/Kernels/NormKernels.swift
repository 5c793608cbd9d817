// RMSNorm forward/backward and deterministic column reductions. Letters: N rows, C channels.

extension KernelSource {
    /// RMSNorm and column sums (dWeight, dBias) in a fixed summation order.
    static let norm = KernelSource(
        name: "rmsnorm.cu",
        body: #"""
            // One block per row. rstd = 1 / sqrt(mean(x^2) + eps), out = x * rstd * w.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_rmsnorm_forward_v1(float* out, float* rstd, const float* x, const float* weight,
                                   int N, int C, float eps) {
                __shared__ float shared[32];
                const int n = blockIdx.x;
                const float* row = x + (size_t)n * C;
                float* target = out + (size_t)n * C;
                float sum = 0.f;
                for (int c = threadIdx.x; c < C; c += blockDim.x) sum += row[c] * row[c];
                sum = hsa_block_sum(sum, shared);
                const float r = 1.0f / sqrtf(sum / (float)C + eps);
                if (threadIdx.x == 0) rstd[n] = r;
                for (int c = threadIdx.x; c < C; c += blockDim.x)
                    target[c] = row[c] * r * weight[c];
            }

            // One block per row: dx += r * (dy * w - x * (sum(dy * w * x) * r^2 / C)).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_rmsnorm_backward_input_v1(float* dInput, const float* dOut, const float* x,
                                          const float* weight, const float* rstd, int N, int C) {
                __shared__ float shared[32];
                const int n = blockIdx.x;
                const float* row = x + (size_t)n * C;
                const float* dy = dOut + (size_t)n * C;
                float* dx = dInput + (size_t)n * C;
                float projection = 0.f;
                for (int c = threadIdx.x; c < C; c += blockDim.x)
                    projection += dy[c] * weight[c] * row[c];
                projection = hsa_block_sum(projection, shared);
                const float r = rstd[n];
                const float correction = projection * r * r / (float)C;
                for (int c = threadIdx.x; c < C; c += blockDim.x)
                    dx[c] += r * (dy[c] * weight[c] - row[c] * correction);
            }

            // v2 of the two row kernels: one warp per row (8 rows per block), float4 loads and a
            // warp-shuffle sum; C % 4 == 0 and 16-byte-aligned rows (the launcher checks).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_rmsnorm_forward_v2(float* out, float* rstd, const float* x, const float* weight,
                                   int N, int C, float eps) {
                const int lane = threadIdx.x & 31, quads = C >> 2;
                const long long n = (long long)blockIdx.x * 8 + (threadIdx.x >> 5);
                if (n >= N) return;
                const float4* row = reinterpret_cast<const float4*>(x + n * C);
                float sum = 0.f;
                for (int c = lane; c < quads; c += 32) {
                    const float4 v = row[c];
                    sum += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
                }
                sum = hsa_warp_sum(sum);
                const float r = 1.0f / sqrtf(sum / (float)C + eps);
                if (lane == 0) rstd[n] = r;
                const float4* w = reinterpret_cast<const float4*>(weight);
                float4* target = reinterpret_cast<float4*>(out + n * C);
                for (int c = lane; c < quads; c += 32) {
                    const float4 v = row[c], g = w[c];
                    target[c] = make_float4(v.x * r * g.x, v.y * r * g.y, v.z * r * g.z,
                                            v.w * r * g.w);
                }
            }

            extern "C" __global__ void __launch_bounds__(256)
            hsa_rmsnorm_backward_input_v2(float* dInput, const float* dOut, const float* x,
                                          const float* weight, const float* rstd, int N, int C) {
                const int lane = threadIdx.x & 31, quads = C >> 2;
                const long long n = (long long)blockIdx.x * 8 + (threadIdx.x >> 5);
                if (n >= N) return;
                const float4* row = reinterpret_cast<const float4*>(x + n * C);
                const float4* dy = reinterpret_cast<const float4*>(dOut + n * C);
                const float4* w = reinterpret_cast<const float4*>(weight);
                float projection = 0.f;
                for (int c = lane; c < quads; c += 32) {
                    const float4 v = row[c], d = dy[c], g = w[c];
                    projection += d.x * g.x * v.x + d.y * g.y * v.y + d.z * g.z * v.z
                        + d.w * g.w * v.w;
                }
                projection = hsa_warp_sum(projection);
                const float r = rstd[n];
                const float correction = projection * r * r / (float)C;
                float4* dx = reinterpret_cast<float4*>(dInput + n * C);
                for (int c = lane; c < quads; c += 32) {
                    const float4 v = row[c], d = dy[c], g = w[c];
                    float4 a = dx[c];
                    a.x += r * (d.x * g.x - v.x * correction);
                    a.y += r * (d.y * g.y - v.y * correction);
                    a.z += r * (d.z * g.z - v.z * correction);
                    a.w += r * (d.w * g.w - v.w * correction);
                    dx[c] = a;
                }
            }

            // Stage 1 of a deterministic column sum: partial[k, c] = sum over rows of chunk k, in
            // row order, of a[n, c] * (b ? b[n, c] : 1) * (s ? s[n] : 1).
            // Grid (ceil(C/256), chunks).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_column_partial_v1(float* partial, const float* a, const float* b, const float* s,
                                  int N, int C, int rowsPerChunk) {
                const int c = blockIdx.x * blockDim.x + threadIdx.x;
                if (c >= C) return;
                const int start = blockIdx.y * rowsPerChunk;
                const int end = min(N, start + rowsPerChunk);
                float sum = 0.f;
                for (int n = start; n < end; n++) {
                    const size_t i = (size_t)n * C + c;
                    float value = a[i];
                    if (b) value *= b[i];
                    if (s) value *= s[n];
                    sum += value;
                }
                partial[(size_t)blockIdx.y * C + c] = sum;
            }

            // Stage 2: out[c] += sum over chunks, in chunk order.
            extern "C" __global__ void __launch_bounds__(256)
            hsa_column_finish_v1(float* out, const float* partial, int chunks, int C) {
                const int c = blockIdx.x * blockDim.x + threadIdx.x;
                if (c >= C) return;
                float sum = 0.f;
                for (int k = 0; k < chunks; k++) sum += partial[(size_t)k * C + c];
                out[c] += sum;
            }

            // out[n, o] = bias[o] (the GEMM then adds onto it with beta = 1).
            extern "C" __global__ void __launch_bounds__(256)
            hsa_bias_broadcast_v1(float* out, const float* bias, int N, int O) {
                const size_t total = (size_t)N * O;
                for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
                     i += (size_t)gridDim.x * blockDim.x)
                    out[i] = bias[i % O];
            }
            """#)
}
