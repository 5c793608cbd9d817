/// Central finite-difference gradient of a scalar function of a Float64 vector.
///
/// - Parameters:
///   - x: the point; perturbed in place and restored.
///   - indices: the coordinates to differentiate (all of them for small inputs, a random subset
///     for large ones).
///   - epsilon: the step, 1e-6 for the Float64 oracles.
///   - loss: the scalar function, typically `sum(R * f(x))` with a fixed random cotangent R.
/// - Returns: the estimated partial derivatives, one per entry of `indices`.
public func centralDifferences(
    at x: inout [Double], indices: [Int], epsilon: Double = 1e-6, loss: ([Double]) -> Double
) -> [Double] {
    indices.map { i in
        let saved = x[i]
        x[i] = saved + epsilon
        let plus = loss(x)
        x[i] = saved - epsilon
        let minus = loss(x)
        x[i] = saved
        return (plus - minus) / (2 * epsilon)
    }
}

/// `sum(cotangent * values)`: the scalar loss used by gradient checks (never a plain sum, whose
/// gradient is all ones and hides transposition bugs).
public func dot(_ values: [Double], _ cotangent: [Double]) -> Double {
    precondition(values.count == cotangent.count)
    var total = 0.0
    for i in 0..<values.count { total += values[i] * cotangent[i] }
    return total
}
