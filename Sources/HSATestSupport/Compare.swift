/// The result of comparing two arrays elementwise with `|a - e| <= atol + rtol * |e|`.
public struct ComparisonReport: CustomStringConvertible, Sendable {
    /// Name used in messages.
    public var label: String
    /// Number of elements compared.
    public var count: Int
    /// Largest `|actual - expected|`.
    public var maxAbsoluteError: Double
    /// Largest `|actual - expected| / |expected|` over elements with `expected != 0`.
    public var maxRelativeError: Double
    /// Flat index of the element that exceeds its tolerance by the most (or of the largest
    /// absolute error when all pass).
    public var worstIndex: Int
    /// Number of elements outside tolerance (a non-finite actual value always fails).
    public var failures: Int
    /// The first few `(index, actual, expected)` triples that failed.
    public var firstFailures: [(Int, Double, Double)]

    /// True when every element is within tolerance.
    public var passed: Bool { failures == 0 }

    public var description: String {
        var text =
            "\(label): \(passed ? "ok" : "FAILED") n=\(count) max_abs=\(maxAbsoluteError) "
            + "max_rel=\(maxRelativeError) worst=\(worstIndex) failures=\(failures)"
        for (index, actual, expected) in firstFailures {
            text += "\n  [\(index)] actual=\(actual) expected=\(expected)"
        }
        return text
    }
}

/// Compares `actual` with `expected` elementwise: element i passes when
/// `|actual[i] - expected[i]| <= atol + rtol * |expected[i]|` (llm.c's validate_result rule).
public func compare(
    _ actual: [Double], _ expected: [Double], atol: Double, rtol: Double, label: String = "values"
) -> ComparisonReport {
    precondition(actual.count == expected.count, "\(label): \(actual.count) vs \(expected.count)")
    var report = ComparisonReport(
        label: label, count: actual.count, maxAbsoluteError: 0, maxRelativeError: 0,
        worstIndex: 0, failures: 0, firstFailures: [])
    var worstExcess = -Double.infinity
    for i in 0..<actual.count {
        let a = actual[i]
        let e = expected[i]
        let error = abs(a - e)
        let allowed = atol + rtol * abs(e)
        if error > report.maxAbsoluteError { report.maxAbsoluteError = error }
        if e != 0 { report.maxRelativeError = max(report.maxRelativeError, error / abs(e)) }
        let excess = a.isFinite ? error - allowed : .infinity
        if excess > worstExcess {
            worstExcess = excess
            report.worstIndex = i
        }
        if !(a.isFinite && error <= allowed) {
            report.failures += 1
            if report.firstFailures.count < 5 { report.firstFailures.append((i, a, e)) }
        }
    }
    return report
}

/// `compare` for fp32 arrays.
public func compare(
    _ actual: [Float], _ expected: [Float], atol: Double, rtol: Double, label: String = "values"
) -> ComparisonReport {
    compare(
        actual.map(Double.init), expected.map(Double.init), atol: atol, rtol: rtol, label: label)
}

/// `compare` of fp32 results against a Float64 oracle.
public func compare(
    _ actual: [Float], _ expected: [Double], atol: Double, rtol: Double, label: String = "values"
) -> ComparisonReport {
    compare(actual.map(Double.init), expected, atol: atol, rtol: rtol, label: label)
}
