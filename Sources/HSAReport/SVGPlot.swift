import Foundation
import HSACore

// Shared pieces of the dependency-free SVG charts (`LinePlot`, `HeatMap`): text escaping,
// number formatting, axis ticks and colours.

// MARK: - Text

/// Helpers for writing SVG documents by hand.
public enum SVG {
    /// `text` with the five XML special characters escaped (safe in text and attributes).
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A coordinate with two decimals (locale-independent).
    static func number(_ value: Double) -> String {
        String(format: "%.2f", value.isFinite ? value : 0)
    }

    /// A tick label: up to 6 significant digits, exponents written compactly (`1e6`, `1e-4`).
    public static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        var text = String(format: "%g", value)
        text = text.replacingOccurrences(of: "e+0", with: "e")
            .replacingOccurrences(of: "e+", with: "e")
            .replacingOccurrences(of: "e-0", with: "e-")
        return text
    }

    /// Writes `document` to `url` atomically.
    static func write(_ document: String, to url: URL) throws {
        try AtomicFile.write(Data(document.utf8), to: url)
    }

    /// The opening `<svg>` element with a white background.
    static func header(width: Double, height: Double) -> String {
        let w = number(width)
        let h = number(height)
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" "
            + "viewBox=\"0 0 \(w) \(h)\" font-family=\"sans-serif\" font-size=\"12\">\n"
            + "<rect x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\" fill=\"white\"/>\n"
    }

    /// A `<text>` element.
    static func text(
        _ content: String, x: Double, y: Double, anchor: String = "middle", size: Int? = nil,
        rotate: Bool = false, fill: String = "#222"
    ) -> String {
        var attributes =
            "x=\"\(number(x))\" y=\"\(number(y))\" text-anchor=\"\(anchor)\" "
            + "fill=\"\(fill)\""
        if let size { attributes += " font-size=\"\(size)\"" }
        if rotate { attributes += " transform=\"rotate(-90 \(number(x)) \(number(y)))\"" }
        return "<text \(attributes)>\(escape(content))</text>\n"
    }
}

// MARK: - Axes

/// The range an axis shows and the tick values to label on it.
struct AxisScale {
    /// Lowest and highest shown values (data space).
    var lower: Double
    var upper: Double
    /// Values to draw ticks and grid lines at.
    var ticks: [Double]
    /// Logarithmic (base 10) when true.
    var isLog: Bool

    /// Maps `value` into `start...end` (screen space); `end` may be below `start`.
    func position(_ value: Double, start: Double, end: Double) -> Double {
        let (a, b, v) = isLog ? (log10(lower), log10(upper), log10(value)) : (lower, upper, value)
        guard b > a else { return (start + end) / 2 }
        return start + (v - a) / (b - a) * (end - start)
    }

    /// A linear scale with about `target` "nice" ticks (steps of 1, 2 or 5 times 10^k).
    static func linear(_ values: [Double], target: Int = 6) -> AxisScale {
        var low = values.min() ?? 0
        var high = values.max() ?? 1
        if high - low <= 0 {
            // One distinct value (or none): widen around it so the range is never empty.
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let step = niceStep((high - low) / Double(max(1, target - 1)))
        let first = (low / step).rounded(.down)
        let last = (high / step).rounded(.up)
        let ticks = stride(from: first, through: last, by: 1).map { index -> Double in
            let value = index * step
            return value == 0 ? 0 : value  // no "-0"
        }
        return AxisScale(lower: first * step, upper: last * step, ticks: ticks, isLog: false)
    }

    /// A base-10 log scale over the positive `values`, with ticks at powers of ten (plus 2 and 5
    /// times them when the range spans at most two decades).
    static func logarithmic(_ values: [Double]) -> AxisScale {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        let low = (log10(positive.min() ?? 1)).rounded(.down)
        var high = (log10(positive.max() ?? 10)).rounded(.up)
        if high <= low { high = low + 1 }  // a single power of ten: show one decade
        let decades = Int(high - low)
        let every = max(1, (decades + 7) / 8)  // at most about 8 labelled decades
        var ticks: [Double] = []
        for exponent in stride(from: Int(low), through: Int(high), by: every) {
            let base = pow(10, Double(exponent))
            ticks.append(base)
            if decades <= 2, exponent < Int(high) { ticks += [2 * base, 5 * base] }
        }
        return AxisScale(
            lower: pow(10, low), upper: pow(10, high), ticks: ticks, isLog: true)
    }

    /// 1, 2 or 5 times a power of ten, at least `rough`.
    private static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let fraction = rough / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }
}

// MARK: - Colours

/// Colour helpers for series and heat maps.
enum SVGColor {
    /// Ten distinguishable series colours (the Tableau 10 palette).
    static let palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    /// Viridis-like stops from 0 (dark purple) to 1 (yellow).
    private static let stops: [(Double, Double, Double)] = [
        (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
    ]

    /// The colour of `value` in 0...1 (clamped) as `#rrggbb`.
    static func scale(_ value: Double) -> String {
        let clamped = min(max(value, 0), 1)
        let position = clamped * Double(stops.count - 1)
        let index = min(Int(position), stops.count - 2)
        let t = position - Double(index)
        let (r0, g0, b0) = stops[index]
        let (r1, g1, b1) = stops[index + 1]
        func channel(_ a: Double, _ b: Double) -> String {
            let value = Int((a + (b - a) * t).rounded())
            let hex = String(value, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(r0, r1) + channel(g0, g1) + channel(b0, b1)
    }

    /// True when text on `scale(value)` should be white for contrast.
    static func isDark(_ value: Double) -> Bool { value < 0.55 }
}
