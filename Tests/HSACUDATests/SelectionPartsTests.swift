@testable import HSACUDA
import Testing

// How the streaming selection splits the chunk range over blocks (no GPU needed).
struct SelectionPartsTests {
    typealias Backend = CUDAManagedBackend

    @Test func decodeOverManyChunksFillsTheGPU() {
        // One decode row, 4 KV heads, 524,288 chunks, 132 SMs: 66 parts of 7,952 chunks.
        let parts = Backend.selectionParts(
            rowBlocks: 1, kvHeads: 4, chunks: 524_288, multiprocessors: 132)
        #expect(parts.count == 66)
        #expect(parts.chunksPerPart % 16 == 0)
        #expect(parts.count * parts.chunksPerPart >= 524_288)
        #expect((parts.count - 1) * parts.chunksPerPart < 524_288)
    }

    @Test func manyRowsOrFewChunksKeepOnePart() {
        let prefill = Backend.selectionParts(
            rowBlocks: 256, kvHeads: 4, chunks: 524_288, multiprocessors: 132)
        #expect(prefill.count == 1)
        let few = Backend.selectionParts(
            rowBlocks: 1, kvHeads: 1, chunks: 37, multiprocessors: 132)
        #expect(few.count == 3)  // one 16-chunk tile per part at least
        #expect(few.chunksPerPart == 16)
        let none = Backend.selectionParts(
            rowBlocks: 1, kvHeads: 1, chunks: 0, multiprocessors: 132)
        #expect(none.count == 1 && none.chunksPerPart == 16)
    }
}
