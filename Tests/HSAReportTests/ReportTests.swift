import Foundation
import HSATestSupport
import Testing

@testable import HSAReport

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// True when `svg` parses as well-formed XML.
private func isWellFormedXML(_ svg: String) -> Bool {
    XMLParser(data: Data(svg.utf8)).parse()
}

@Suite struct SVGPlotTests {
    @Test func linePlotContainsSeriesNamesAndIsWellFormed() throws {
        let plot = LinePlot(
            title: "loss <train & eval>", xLabel: "step", yLabel: "loss",
            series: [
                .init(
                    name: "train \"A\"", points: (0..<50).map { (Double($0), 1 / Double($0 + 1)) }),
                .init(name: "eval", points: [(0, 1), (25, 0.5), (49, .nan)], color: "#000000"),
            ])
        let svg = plot.svg()
        #expect(isWellFormedXML(svg))
        #expect(svg.contains("train &quot;A&quot;"))
        #expect(svg.contains(">eval</text>"))
        #expect(svg.contains("loss &lt;train &amp; eval&gt;"))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func emptySingleAndLogPlotsHaveNoNaN() {
        let plots = [
            LinePlot(title: "empty"),
            LinePlot(title: "no points", series: [.init(name: "s", points: [])]),
            LinePlot(title: "one", series: [.init(name: "s", points: [(3, 3)])]),
            LinePlot(title: "zero", series: [.init(name: "s", points: [(0, 0)])]),
            LinePlot(
                title: "log", xLog: true, yLog: true,
                series: [.init(name: "ppl", points: [(0, 5), (128, 40), (4096, 12), (65536, 9)])]),
            LinePlot(
                title: "log one", xLog: true, yLog: true,
                series: [.init(name: "s", points: [(1000, 1)])]),
        ]
        for plot in plots {
            let svg = plot.svg()
            #expect(isWellFormedXML(svg), "\(plot.title)")
            #expect(!svg.lowercased().contains("nan"), "\(plot.title)")
        }
    }

    @Test func ticksAreNiceAndCoverTheData() {
        let linear = AxisScale.linear([0.13, 0.87])
        #expect(linear.lower <= 0.13 && linear.upper >= 0.87)
        #expect(linear.ticks.map(SVG.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        let log = AxisScale.logarithmic([3, 40_000])
        #expect(log.ticks == [1, 10, 100, 1000, 10_000, 100_000])
        let labels = [1e6, 1e-5, 1e-4, -0.5, 0.1 + 0.2, 12_345].map(SVG.label)
        #expect(labels == ["1e6", "1e-5", "0.0001", "-0.5", "0.3", "12345"])
    }

    @Test func heatMapIsWellFormedWithLabelsAndMissingCells() {
        let map = HeatMap(
            title: "passkey accuracy", xLabel: "context length", yLabel: "depth",
            rowLabels: ["0%", "50%", "100%"], columnLabels: ["1k", "4k"],
            values: [[1, 0.5], [0.25, .nan], [0]])
        let svg = map.svg()
        #expect(isWellFormedXML(svg))
        for label in ["0%", "50%", "100%", "1k", "4k", "passkey accuracy", "0.25", "–"] {
            #expect(svg.contains(">\(label)</text>"), "\(label)")
        }
        #expect(SVGColor.scale(0) == "#440154" && SVGColor.scale(1) == "#fde725")
    }

    @Test func writeCreatesFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("plot.svg")
        try LinePlot(title: "t").write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8).hasSuffix("</svg>\n"))
    }
}

@Suite struct ProgressTests {
    @Test(arguments: [
        (0.0, "0s"), (0.4, "0s"), (59.4, "59s"), (60, "1m00s"), (192, "3m12s"),
        (3599.6, "1h00m00s"), (3725, "1h02m05s"), (90_000, "25h00m00s"), (-3, "0s"),
        (.nan, "--"), (.infinity, "--"),
    ])
    func formatsDurations(seconds: Double, expected: String) {
        #expect(formatDuration(seconds) == expected)
    }

    @Test func rendersBarPercentCountAndETA() {
        let bar = ProgressBar(total: 456, width: 10, enabled: false)
        #expect(bar.render(completed: 0, elapsed: 1) == "[..........] 0% 0/456 ETA --")
        #expect(
            bar.render(completed: 228, elapsed: 60, text: "loss=2.1")
                == "[#####.....] 50% 228/456 ETA 1m00s loss=2.1")
        #expect(bar.render(completed: 456, elapsed: 125) == "[##########] 100% 456/456 in 2m05s")
        #expect(bar.render(completed: 999, elapsed: 1).hasPrefix("[##########] 100% 456/456"))
        let empty = ProgressBar(total: 0, width: 4, enabled: false)
        #expect(empty.render(completed: 0, elapsed: 0) == "[####] 100% 0/0 in 0s")
    }

    @Test func rendersProgressLogLines() {
        let log = ProgressLog(label: "eval", total: 40, enabled: false)
        #expect(log.render(completed: 0, elapsed: 3) == "eval 0/40 (0%) ETA --")
        #expect(
            log.render(completed: 10, elapsed: 30, text: "vt 4K #2")
                == "eval 10/40 (25%) ETA 1m30s vt 4K #2")
        #expect(log.render(completed: 40, elapsed: 61) == "eval 40/40 (100%) in 1m01s")
    }

    @Test func disabledBarIgnoresUpdates() {
        let bar = ProgressBar(total: 3, enabled: false)
        bar.update(completed: 1, text: "x")
        bar.finish()
        #expect(!bar.isEnabled)
    }
}
