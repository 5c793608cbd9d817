// One line of the selftest table and the rule it was judged by.

/// How a GPU output is compared with the CPU's.
enum ParityTolerance {
    /// Every element: |g - c| <= atol + rtol |c|.
    case elementwise(atol: Double, rtol: Double)
    /// The whole tensor: ||g - c|| / ||c|| <= limit (reported as max_rel, limit as rtol).
    case relativeL2(Double)
}

/// One compared output.
struct ParityRow {
    var op: String
    var count: Int
    var maxAbsolute: Double
    var maxRelative: Double
    var atol: Double
    var rtol: Double
    var failures: Int
    var passed: Bool { failures == 0 }
}
