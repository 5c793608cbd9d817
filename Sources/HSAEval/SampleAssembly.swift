import Foundation
import HSACore

/// Puts a template prefix, an exact-length context and a suffix together into a sample whose
/// token count (BOS + prompt + tokens to generate) equals the target length.
struct SampleAssembly {
    /// Template text before the context.
    var prefix: String
    /// Template text after the context (the question).
    var suffix: String
    /// The answer prefix appended after the input.
    var answerPrefix: String
    /// Tokens reserved for the answer.
    var tokensToGenerate: Int

    /// Bytes left for the context at `length` (one token is the BOS).
    func contextBudget(length: Int, task: String) throws -> Int {
        let fixed =
            1 + prefix.utf8.count + suffix.utf8.count + answerPrefix.utf8.count
            + tokensToGenerate
        guard length > fixed else {
            throw EvalError.lengthTooShort(task: task, length: length, minimum: fixed + 1)
        }
        return length - fixed
    }

    /// The input text and the prompt token positions of the context offsets.
    func input(context: [UInt8], offsets: [Int]) -> (input: String, positions: [Int]) {
        let input = prefix + String(decoding: context, as: UTF8.self) + suffix
        let start = 1 + prefix.utf8.count
        return (input, offsets.map { start + $0 })
    }
}

/// Picks `count` distinct elements of `array` (all of them, shuffled, when count >= size).
func sampleWithoutReplacement<T>(_ array: [T], count: Int, rng: inout SplitMix64) -> [T] {
    var pool = array
    let take = min(count, pool.count)
    for i in 0..<take {
        let j = Int.random(in: i..<pool.count, using: &rng)
        pool.swapAt(i, j)
    }
    return Array(pool[0..<take])
}
