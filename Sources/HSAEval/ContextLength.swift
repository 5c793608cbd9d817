import Foundation

/// Context lengths written as "4K" (4096), "1M" (1048576) or plain integers.
public enum ContextLength {
    /// The number of tokens `text` names: an integer with an optional K, M or G suffix
    /// (binary: K = 1024), case-insensitive.
    /// - Throws: ``EvalError/invalidLength(_:)`` for anything else or a non-positive value.
    public static func parse(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard let last = trimmed.last else { throw EvalError.invalidLength(text) }
        let multiplier: Int
        var digits = trimmed
        switch last {
        case "K": multiplier = 1 << 10
        case "M": multiplier = 1 << 20
        case "G": multiplier = 1 << 30
        default: multiplier = 1
        }
        if multiplier > 1 { digits.removeLast() }
        guard let value = Int(digits), value > 0 else { throw EvalError.invalidLength(text) }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw EvalError.invalidLength(text) }
        return product
    }

    /// A comma-separated list such as "4K,16K,64K".
    public static func parseList(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { try parse(String($0)) }
    }

    /// The shortest exact spelling: 4096 → "4K", 1048576 → "1M", 1000 → "1000".
    public static func format(_ tokens: Int) -> String {
        for (suffix, unit) in [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]
        where tokens >= unit && tokens % unit == 0 {
            return "\(tokens / unit)\(suffix)"
        }
        return "\(tokens)"
    }
}
