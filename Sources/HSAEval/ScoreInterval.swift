import Foundation

/// A 95% confidence interval for a cell's mean score: the Wilson score interval of a binomial
/// proportion with `samples` trials. Exact-match tasks score 0 or 1 per sample, so the mean is
/// such a proportion; for fractional scores (vt's share of values found) the interval treats the
/// mean as one, an approximation. Ten samples at 20% give 5.7-51.0%: why cells of ten samples
/// rarely separate two models.
public struct ScoreInterval: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double

    /// The interval of mean score `score` (0...1) over `samples` samples; z = 1.96 for 95%.
    public init(score: Double, samples: Int, z: Double = 1.96) {
        guard samples > 0 else {
            (low, high) = (0, 1)
            return
        }
        let n = Double(samples)
        let p = min(max(score, 0), 1)
        let z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let halfWidth = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        (low, high) = (max(0, center - halfWidth), min(1, center + halfWidth))
    }
}
