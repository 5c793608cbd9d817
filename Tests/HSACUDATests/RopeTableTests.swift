import HSACUDA
import HSACore
import Testing

// The frequency table YaRN's RoPE kernel reads (no GPU needed): doubles go to the device as
// pairs of 32-bit words, low word first, and must come back bit for bit.
struct RopeTableTests {
    @Test func wordsHoldEachDoubleLowWordFirst() {
        let words = CUDABackend.ropeTableWords([1.0])
        #expect(words == [0, 0x3FF0_0000])  // 1.0 is 0x3FF0000000000000
    }

    @Test func yarnFrequenciesSurviveTheTable() {
        let rotary = RotaryEmbedding(
            theta: 10_000, yarn: YaRNScaling(factor: 256, originalLength: 4096))
        let frequencies = rotary.inverseFrequencies(headDim: 16)
        let words = CUDABackend.ropeTableWords(frequencies)
        #expect(words.count == 16)
        let rebuilt = (0..<frequencies.count).map { i in
            let low = UInt64(UInt32(bitPattern: words[2 * i]))
            let high = UInt64(UInt32(bitPattern: words[2 * i + 1]))
            return Double(bitPattern: high << 32 | low)
        }
        #expect(rebuilt == frequencies)
    }
}
