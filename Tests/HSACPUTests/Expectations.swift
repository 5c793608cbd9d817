import HSATestSupport
import Testing

/// fp32 result vs Float64 oracle: `|a - e| <= atol + rtol |e|` elementwise.
func expectClose(
    _ actual: [Float], _ expected: [Double], atol: Double = 1e-5, rtol: Double = 1e-4,
    _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let report = compare(actual, expected, atol: atol, rtol: rtol, label: label)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
}

/// Oracle gradient vs central differences: error relative to the largest entry < 1e-6.
func expectGradient(
    _ analytic: [Double], _ numeric: [Double], _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let scale = max(numeric.map(abs).max() ?? 0, 1e-12)
    let report = compare(analytic, numeric, atol: 1e-6 * scale, rtol: 0, label: label)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
}
