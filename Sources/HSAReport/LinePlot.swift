import Foundation

/// A dependency-free SVG line chart: loss curves, perplexity by context length.
///
/// Axes may be linear or base-10 logarithmic. Points that are not finite, or not positive on a
/// log axis, are skipped. Empty plots and single points render without NaN.
public struct LinePlot: Sendable {
    /// One named line.
    public struct Series: Sendable {
        /// Legend text.
        public var name: String
        /// `(x, y)` pairs, drawn in the given order.
        public var points: [(x: Double, y: Double)]
        /// CSS colour (`#1f77b4`); nil picks the next palette colour.
        public var color: String?

        /// Creates a series.
        public init(name: String, points: [(x: Double, y: Double)], color: String? = nil) {
            self.name = name
            self.points = points
            self.color = color
        }
    }

    /// Title above the chart.
    public var title: String
    /// Horizontal axis caption.
    public var xLabel: String
    /// Vertical axis caption.
    public var yLabel: String
    /// Logarithmic horizontal axis.
    public var xLog: Bool
    /// Logarithmic vertical axis.
    public var yLog: Bool
    /// The lines.
    public var series: [Series]
    /// Image size in pixels.
    public var width: Double
    /// Image size in pixels.
    public var height: Double

    /// Creates a chart.
    public init(
        title: String, xLabel: String = "", yLabel: String = "", xLog: Bool = false,
        yLog: Bool = false, series: [Series] = [], width: Double = 720, height: Double = 440
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xLog = xLog
        self.yLog = yLog
        self.series = series
        self.width = width
        self.height = height
    }

    /// Writes `svg()` to `url` atomically.
    public func write(to url: URL) throws { try SVG.write(svg(), to: url) }

    /// The chart as an SVG document.
    public func svg() -> String {
        let left = 70.0
        let right = 170.0  // room for the legend
        let top = 40.0
        let bottom = 55.0
        let plotRight = max(left + 10, width - right)
        let plotBottom = max(top + 10, height - bottom)

        let visible = series.map { line in
            line.points.filter { point in
                point.x.isFinite && point.y.isFinite && (!xLog || point.x > 0)
                    && (!yLog || point.y > 0)
            }
        }
        let xs = visible.flatMap { $0.map(\.x) }
        let ys = visible.flatMap { $0.map(\.y) }
        let xScale = xLog ? AxisScale.logarithmic(xs) : AxisScale.linear(xs)
        let yScale = yLog ? AxisScale.logarithmic(ys) : AxisScale.linear(ys)
        func px(_ x: Double) -> Double { xScale.position(x, start: left, end: plotRight) }
        func py(_ y: Double) -> Double { yScale.position(y, start: plotBottom, end: top) }

        var out = SVG.header(width: width, height: height)
        out += SVG.text(title, x: width / 2, y: 22, size: 15)
        // Grid, ticks and tick labels.
        out += "<g stroke=\"#ddd\" stroke-width=\"1\">\n"
        for tick in xScale.ticks {
            let x = SVG.number(px(tick))
            out +=
                "<line x1=\"\(x)\" y1=\"\(SVG.number(top))\" x2=\"\(x)\" "
                + "y2=\"\(SVG.number(plotBottom))\"/>\n"
        }
        for tick in yScale.ticks {
            let y = SVG.number(py(tick))
            out +=
                "<line x1=\"\(SVG.number(left))\" y1=\"\(y)\" x2=\"\(SVG.number(plotRight))\" "
                + "y2=\"\(y)\"/>\n"
        }
        out += "</g>\n"
        for tick in xScale.ticks {
            out += SVG.text(SVG.label(tick), x: px(tick), y: plotBottom + 16)
        }
        for tick in yScale.ticks {
            out += SVG.text(SVG.label(tick), x: left - 6, y: py(tick) + 4, anchor: "end")
        }
        let frameWidth = SVG.number(plotRight - left)
        let frameHeight = SVG.number(plotBottom - top)
        out +=
            "<rect x=\"\(SVG.number(left))\" y=\"\(SVG.number(top))\" "
            + "width=\"\(frameWidth)\" height=\"\(frameHeight)\" "
            + "fill=\"none\" stroke=\"#444\"/>\n"
        out += SVG.text(xLabel, x: (left + plotRight) / 2, y: height - 14)
        out += SVG.text(yLabel, x: 18, y: (top + plotBottom) / 2, rotate: true)
        if xs.isEmpty {
            out += SVG.text(
                "no data", x: (left + plotRight) / 2, y: (top + plotBottom) / 2,
                fill: "#888")
        }
        // Lines, markers (for short series) and the legend.
        for (index, line) in series.enumerated() {
            let color = SVG.escape(line.color ?? SVGColor.palette[index % SVGColor.palette.count])
            let points = visible[index]
            if points.count > 1 {
                let coordinates = points.map { "\(SVG.number(px($0.x))),\(SVG.number(py($0.y)))" }
                out +=
                    "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" "
                    + "points=\"\(coordinates.joined(separator: " "))\"/>\n"
            }
            if points.count <= 40 {
                for point in points {
                    out +=
                        "<circle cx=\"\(SVG.number(px(point.x)))\" "
                        + "cy=\"\(SVG.number(py(point.y)))\" r=\"3\" fill=\"\(color)\"/>\n"
                }
            }
            let legendY = top + 12 + Double(index) * 18
            out +=
                "<line x1=\"\(SVG.number(plotRight + 12))\" y1=\"\(SVG.number(legendY - 4))\" "
                + "x2=\"\(SVG.number(plotRight + 32))\" y2=\"\(SVG.number(legendY - 4))\" "
                + "stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            out += SVG.text(line.name, x: plotRight + 38, y: legendY, anchor: "start")
        }
        return out + "</svg>\n"
    }
}
