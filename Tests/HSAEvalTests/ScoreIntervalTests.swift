import Foundation
import HSAEval
import Testing

@Suite struct ScoreIntervalTests {
    @Test func wilsonIntervalMatchesTheClosedForm() {
        // 2 of 10: the textbook Wilson interval, 5.67%-50.98%.
        let interval = ScoreInterval(score: 0.2, samples: 10)
        #expect(abs(interval.low - 0.0567) < 1e-4)
        #expect(abs(interval.high - 0.5098) < 1e-4)
        // All correct still leaves doubt below 1; none correct above 0.
        let all = ScoreInterval(score: 1, samples: 5)
        #expect(all.high == 1 && abs(all.low - 0.5655) < 1e-4)
        #expect(ScoreInterval(score: 0, samples: 5).low == 0)
        // More samples, a narrower interval around the same mean.
        let wide = ScoreInterval(score: 0.5, samples: 10)
        let narrow = ScoreInterval(score: 0.5, samples: 100)
        #expect(narrow.high - narrow.low < (wide.high - wide.low) / 2)
        #expect(ScoreInterval(score: 0.5, samples: 0) == ScoreInterval(score: 0, samples: 0))
    }

    @Test func summaryAndReportCarryTheIntervals() throws {
        func result(_ score: Double, index: Int) -> EvalResult {
            EvalResult(
                suite: "ruler", task: "niah_single_1", length: 4096, index: index, depth: nil,
                score: score, prediction: "", outputs: [], promptTokens: 4096, seconds: 0,
                needlePositions: [], diagnostics: nil)
        }
        let results = (0..<10).map { result($0 < 2 ? 1 : 0, index: $0) }
        let summary = EvalSummary(results: results)
        let interval = try #require(summary.cells.first?.interval)
        #expect(interval == ScoreInterval(score: 0.2, samples: 10))
        let markdown = EvalReport.markdown(summary)
        #expect(markdown.contains("| niah_single_1 | 5.7-51.0 |"))
        // A summary.json written before the field existed still decodes.
        let old = Data(
            """
            {"tasks": ["t"], "lengths": [1024], "overall": 0.5, "samples": 2, "diagnostics": {},
             "depth_cells": [], "cells": [{"task": "t", "length": 1024, "samples": 2, "score": 0.5}]}
            """.utf8)
        let decoded = try JSONDecoder().decode(EvalSummary.self, from: old)
        #expect(decoded.cells.first?.interval == nil)
        #expect(EvalReport.intervalsMarkdown(decoded).contains("| t | 9.5-90.5 |"))
    }
}
