import Foundation
import HSACore

// AdamW with decoupled weight decay (torch.optim.AdamW semantics). Flat over n parameters.

// MARK: - Update

extension CPU {
    /// One AdamW step, in place on `parameters`, `m` and `v`:
    /// `p -= lr * wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;`
    /// `p -= lr * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps)`.
    /// - Parameters:
    ///   - parameters: (n) parameters, updated in place.
    ///   - gradients: (n) gradients.
    ///   - m: (n) first-moment estimate, updated in place.
    ///   - v: (n) second-moment estimate, updated in place.
    ///   - count: n.
    ///   - learningRate: lr.
    ///   - beta1: b1.
    ///   - beta2: b2.
    ///   - epsilon: eps, added to the bias-corrected RMS.
    ///   - weightDecay: wd (0 for parameters without decay).
    ///   - step: the 1-based step number (for bias correction).
    public static func adamWUpdate(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
        step: Int
    ) {
        precondition(step >= 1, "adamWUpdate: step is 1-based, got \(step)")
        // Bias corrections in Double: b^step underflows gracefully and 1 - b^step stays exact.
        let correction1 = Float(1 - pow(Double(beta1), Double(step)))
        let correction2 = Float(1 - pow(Double(beta2), Double(step)))
        let decayFactor = 1 - learningRate * weightDecay
        let oneMinusBeta1 = 1 - beta1
        let oneMinusBeta2 = 1 - beta2
        blockParallel(count: count, blockSize: cheapBlockSize) { range in
            for i in range {
                let g = gradients[i]
                let mi = beta1 * m[i] + oneMinusBeta1 * g
                let vi = beta2 * v[i] + oneMinusBeta2 * g * g
                m[i] = mi
                v[i] = vi
                let mHat = mi / correction1
                let vHat = vi / correction2
                let decayed = parameters[i] * decayFactor
                parameters[i] = decayed - learningRate * mHat / (vHat.squareRoot() + epsilon)
            }
        }
    }
}
