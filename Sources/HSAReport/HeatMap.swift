import Foundation

/// A dependency-free SVG heat map of values in 0...1, such as retrieval accuracy by needle depth
/// (rows) and context length (columns).
///
/// Values are clamped to 0...1; non-finite values (cells not evaluated) are drawn grey with "–".
public struct HeatMap: Sendable {
    /// Title above the map.
    public var title: String
    /// Caption under the columns.
    public var xLabel: String
    /// Caption beside the rows.
    public var yLabel: String
    /// One label per row, top to bottom.
    public var rowLabels: [String]
    /// One label per column, left to right.
    public var columnLabels: [String]
    /// `values[row][column]` in 0...1; missing entries count as not evaluated. // (rows, columns)
    public var values: [[Double]]
    /// Write each value (two decimals) inside its cell.
    public var showValues: Bool

    /// Creates a heat map.
    public init(
        title: String, xLabel: String = "", yLabel: String = "", rowLabels: [String],
        columnLabels: [String], values: [[Double]], showValues: Bool = true
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.showValues = showValues
    }

    /// Writes `svg()` to `url` atomically.
    public func write(to url: URL) throws { try SVG.write(svg(), to: url) }

    /// The map as an SVG document.
    public func svg() -> String {
        let rows = max(rowLabels.count, values.count)
        let columns = max(columnLabels.count, values.map(\.count).max() ?? 0)
        let cell = 44.0
        let left = 90.0
        let top = 44.0
        let gridWidth = cell * Double(max(columns, 1))
        let gridHeight = cell * Double(max(rows, 1))
        let width = left + gridWidth + 110
        let height = top + gridHeight + 60

        var out = SVG.header(width: width, height: height)
        out += SVG.text(title, x: width / 2, y: 24, size: 15)
        for row in 0..<rows {
            let y = top + Double(row) * cell
            for column in 0..<columns {
                let x = left + Double(column) * cell
                let value =
                    row < values.count && column < values[row].count
                    ? values[row][column] : Double.nan
                let fill = value.isFinite ? SVGColor.scale(value) : "#cccccc"
                out +=
                    "<rect x=\"\(SVG.number(x))\" y=\"\(SVG.number(y))\" "
                    + "width=\"\(SVG.number(cell))\" height=\"\(SVG.number(cell))\" "
                    + "fill=\"\(fill)\" stroke=\"white\"/>\n"
                if showValues {
                    let clamped = min(max(value, 0), 1)
                    let text = value.isFinite ? String(format: "%.2f", clamped) : "–"
                    let color = value.isFinite && SVGColor.isDark(value) ? "white" : "#222"
                    out += SVG.text(
                        text, x: x + cell / 2, y: y + cell / 2 + 4, size: 11, fill: color)
                }
            }
            let label = row < rowLabels.count ? rowLabels[row] : ""
            out += SVG.text(label, x: left - 6, y: y + cell / 2 + 4, anchor: "end")
        }
        for column in 0..<columns {
            let label = column < columnLabels.count ? columnLabels[column] : ""
            out += SVG.text(
                label, x: left + (Double(column) + 0.5) * cell, y: top + gridHeight + 16)
        }
        out += SVG.text(xLabel, x: left + gridWidth / 2, y: height - 14)
        out += SVG.text(yLabel, x: 16, y: top + gridHeight / 2, rotate: true)
        out += colorBar(x: left + gridWidth + 30, top: top, height: gridHeight)
        return out + "</svg>\n"
    }

    /// A vertical colour scale from 1 (top) to 0 (bottom) with three labels.
    private func colorBar(x: Double, top: Double, height: Double) -> String {
        let steps = 20
        let stepHeight = height / Double(steps)
        var out = ""
        for step in 0..<steps {
            let value = 1 - (Double(step) + 0.5) / Double(steps)
            out +=
                "<rect x=\"\(SVG.number(x))\" y=\"\(SVG.number(top + Double(step) * stepHeight))\" "
                + "width=\"16\" height=\"\(SVG.number(stepHeight + 0.5))\" "
                + "fill=\"\(SVGColor.scale(value))\"/>\n"
        }
        for value in [1.0, 0.5, 0.0] {
            out += SVG.text(
                SVG.label(value), x: x + 22, y: top + (1 - value) * height + 4, anchor: "start")
        }
        return out
    }
}
