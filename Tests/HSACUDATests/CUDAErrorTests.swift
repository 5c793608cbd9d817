import HSA
import Testing

@Suite struct CUDAErrorTests {
    /// Out of memory names the request, what is held and the limit, with what to change.
    @Test func outOfMemoryNamesTheSizesAndTheFix() {
        let error = CUDAError.outOfMemory(
            requestedBytes: 3 << 30, liveBytes: 70 << 30, limitBytes: 72 << 30)
        let text = "\(error)"
        #expect(text.hasPrefix("CUDA: out of memory: a tensor of 3.00 GiB on top of 70.00 GiB"))
        #expect(text.contains("exceeds the 72.00 GiB tensors may use"))
        #expect(text.contains("hint: use a smaller --batch-size"))
        #expect(!text.contains("\n"))
    }
}
