import Foundation

/// A small, fast, seedable generator (SplitMix64, Steele et al. 2014). Its whole state is one
/// `UInt64`, so a checkpoint can store and restore it exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable, Codable, Equatable {
    /// The full generator state.
    public var state: UInt64

    /// Creates a generator whose stream is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal sample (Box-Muller; uses two uniforms per call, discards the second
    /// normal so the stream position depends only on the number of calls).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUniform(), 0x1.0p-60)
        let u2 = nextUniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// An index below `bound` (> 0), unbiased enough for shuffling: the high word of a
    /// 64 × 64-bit product.
    public mutating func nextIndex(below bound: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A random permutation of `0 ..< count` (Fisher-Yates from the last index down).
    public mutating func permutation(count: Int) -> [Int] {
        var order = Array(0..<count)
        var index = count - 1
        while index > 0 {
            order.swapAt(index, nextIndex(below: index + 1))
            index -= 1
        }
        return order
    }
}
