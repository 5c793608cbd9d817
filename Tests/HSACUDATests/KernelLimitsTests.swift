import HSACUDA
import Testing

// The shapes the sparse and streaming kernels take (no GPU needed): shapes beyond them run on
// the CPU fallback (training) or are refused (streaming), so the limits are part of the
// contract. K 64 covers every chunk of a 4,096-token sequence in chunks of 64.
struct KernelLimitsTests {
    @Test func selectionTakesUpTo64SlotsAnd2048Chunks() {
        #expect(CUDABackend.maxTopK == 64)
        #expect(CUDABackend.chunkSelectionSupports(chunkCount: 64, topK: 64))
        #expect(CUDABackend.chunkSelectionSupports(chunkCount: 2048, topK: 1))
        #expect(!CUDABackend.chunkSelectionSupports(chunkCount: 64, topK: 65))
        #expect(!CUDABackend.chunkSelectionSupports(chunkCount: 2049, topK: 8))
        #expect(!CUDABackend.chunkSelectionSupports(chunkCount: 64, topK: 0))
    }

    @Test func sparseAttentionTakesTheMainModelWithEveryChunk() {
        // The main model's shape (4 query / 2 KV heads of 16, chunks of 64) at top-8 and top-64.
        for topK in [8, 64] {
            #expect(
                CUDABackend.sparseAttentionSupports(
                    heads: 4, kvHeads: 2, headDim: 16, chunkSize: 64, topK: topK))
        }
        #expect(
            !CUDABackend.sparseAttentionSupports(
                heads: 4, kvHeads: 2, headDim: 16, chunkSize: 64, topK: 65))
        // The tiles: S * HS <= 4096 and G * HS <= 1024.
        #expect(
            !CUDABackend.sparseAttentionSupports(
                heads: 2, kvHeads: 1, headDim: 128, chunkSize: 64, topK: 8))
        #expect(
            !CUDABackend.sparseAttentionSupports(
                heads: 32, kvHeads: 1, headDim: 64, chunkSize: 16, topK: 8))
    }

    @Test func streamingAddsTheRetrievalSizeLimit() {
        #expect(
            CUDAManagedBackend.streamingSupports(
                heads: 4, kvHeads: 2, headDim: 16, retrievalDim: 256, chunkSize: 64, topK: 64))
        #expect(
            !CUDAManagedBackend.streamingSupports(
                heads: 4, kvHeads: 2, headDim: 16, retrievalDim: 257, chunkSize: 64, topK: 8))
        #expect(
            !CUDAManagedBackend.streamingSupports(
                heads: 4, kvHeads: 2, headDim: 16, retrievalDim: 16, chunkSize: 64, topK: 65))
    }
}
