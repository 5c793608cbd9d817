import Foundation
import HSACore

// Softmax cross-entropy over the vocabulary. Dimension letters: N rows, V vocab.
// A row whose target is negative is ignored: loss 0 and zero gradient.

// MARK: - Forward

extension CPU {
    /// Per-row cross-entropy: `losses[n] = logsumexp(logits[n]) - logits[n, targets[n]]`,
    /// 0 where `targets[n] < 0`.
    /// - Parameters:
    ///   - losses: (N) per-row losses, overwritten.
    ///   - logits: (N, V) unnormalized log-probabilities.
    ///   - targets: (N) Int32 target ids in `0..<V`, or negative to ignore the row.
    ///   - rows: N.
    ///   - vocab: V.
    public static func crossEntropyForward(
        losses: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rows: Int, vocab: Int
    ) {
        rowParallel(rows, workPerRow: 8 * vocab) { n in
            let target = Int(targets[n])
            if target < 0 {
                losses[n] = 0
                return
            }
            precondition(target < vocab, "crossEntropyForward: target \(target) >= vocab \(vocab)")
            let row = logits + n * vocab
            let maximum = rowMaximum(row, count: vocab)
            // The exponential sum runs in Double: cheap next to exp, and exact enough for any V.
            var total = 0.0
            for v in 0..<vocab { total += Double(exp(row[v] - maximum)) }
            let logSumExp = Double(maximum) + log(total)
            losses[n] = Float(logSumExp - Double(row[target]))
        }
    }
}

// MARK: - Backward

extension CPU {
    /// Cross-entropy backward: `dLogits[n] = rowScale[n] * (softmax(logits[n]) - onehot)`.
    /// `dLogits` is OVERWRITTEN; rows with a negative target get zeros.
    /// - Parameters:
    ///   - dLogits: (N, V) logits gradient, overwritten.
    ///   - logits: (N, V) forward logits.
    ///   - targets: (N) Int32 target ids, negative to ignore the row.
    ///   - rowScale: (N) gradient of the loss with respect to each row's loss (e.g. 1/count).
    ///   - rows: N.
    ///   - vocab: V.
    public static func crossEntropyBackward(
        dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rowScale: UnsafePointer<Float>, rows: Int, vocab: Int
    ) {
        rowParallel(rows, workPerRow: 8 * vocab) { n in
            let target = Int(targets[n])
            let dRow = dLogits + n * vocab
            if target < 0 {
                dRow.update(repeating: 0, count: vocab)
                return
            }
            precondition(target < vocab, "crossEntropyBackward: target \(target) >= vocab \(vocab)")
            let row = logits + n * vocab
            let maximum = rowMaximum(row, count: vocab)
            var total = 0.0
            for v in 0..<vocab {
                let e = exp(row[v] - maximum)
                dRow[v] = e
                total += Double(e)
            }
            let factor = Float(Double(rowScale[n]) / total)
            for v in 0..<vocab { dRow[v] *= factor }
            dRow[target] -= rowScale[n]
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// The largest of `count` (>= 1) values.
    static func rowMaximum(_ row: UnsafePointer<Float>, count: Int) -> Float {
        var maximum = -Float.infinity
        for v in 0..<count where row[v] > maximum { maximum = row[v] }
        return maximum
    }
}
