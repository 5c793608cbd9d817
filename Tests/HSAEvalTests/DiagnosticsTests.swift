import Foundation
import HSA
import HSATestSupport
import Testing

@Suite struct DiagnosticsTests {
    /// Two HSA layers, 2 KV heads, S 8, K 2.
    func model(fusion: FusionKind) -> LanguageModel {
        LanguageModel(config: .tinyWithTwoHSALayers(fusion: fusion), seed: 3)
    }

    @Test func perLayerRecallAndMassAreInRangeWithKeysPerLayer() throws {
        let sample = try builtInGenerator.sample(
            .ruler(.niahSingle1), length: 600, index: 0, seed: 2)
        let prompt = [ByteTokenizer().bos] + ByteTokenizer().encode(sample.promptText)
        for fusion in [FusionKind.stickBreaking, .joint] {
            let adapter = LanguageModelEvaluator(model: model(fusion: fusion))
            let values = try #require(
                try adapter.retrievalDiagnostics(
                    prompt: prompt, needlePositions: sample.needlePositions))
            #expect(
                Set(values.keys) == [
                    "layer0.recall", "layer0.mass", "layer1.recall", "layer1.mass",
                    "layer0.reach_recall", "layer0.reach_mass", "layer1.reach_recall",
                    "layer1.reach_mass", "needle_chunk_recall",
                ])
            for value in values.values { #expect((0...1).contains(value)) }
            // Recall is a fraction of 2 KV heads; mass is 0 exactly when nothing is selected.
            for layer in 0..<2 {
                let recall = try #require(values["layer\(layer).recall"])
                #expect([0, 0.5, 1].contains(recall))
                if recall == 0 { #expect(values["layer\(layer).mass"] == 0) }
            }
        }
    }

    /// The reach of HSA layer 0 is the answer position and the W - 1 before it (upper layer 1
    /// reads them); the top HSA layer reaches only the answer position itself.
    @Test func reachIsTheBestRetrievalTheLayersAboveCanRead() throws {
        let sample = try builtInGenerator.sample(
            .ruler(.niahSingle1), length: 600, index: 0, seed: 2)
        let prompt = [ByteTokenizer().bos] + ByteTokenizer().encode(sample.promptText)
        let network = model(fusion: .softmax)
        let values = try #require(
            try LanguageModelEvaluator(model: network).retrievalDiagnostics(
                prompt: prompt, needlePositions: sample.needlePositions))
        let pass = network.forward(tokens: prompt, batch: 1, sequenceLength: prompt.count)
        let chunks = Set(sample.needlePositions.map { $0 / network.config.chunkSize })
        let last = prompt.count - 1
        let reach = (last - network.config.window + 1...last).map {
            pass.chunkRetrieval(of: chunks, position: $0, config: network.config)[0]
        }
        #expect(values["layer0.reach_recall"] == reach.map(\.recall).max())
        #expect(values["layer0.reach_mass"] == reach.map(\.mass).max())
        #expect(values["layer1.reach_recall"] == values["layer1.recall"])
        #expect(values["layer1.reach_mass"] == values["layer1.mass"])
    }

    /// With distractor needles the weight on their chunks is reported apart from the answer's;
    /// under softmax fusion the two never add up to more than the whole fusion.
    @Test func distractorMassIsSeparateFromTheAnswerMass() throws {
        let sample = try builtInGenerator.sample(
            .ruler(.niahMultikey1), length: 900, index: 0, seed: 2)
        #expect(!sample.distractorPositions.isEmpty)
        let prompt = [ByteTokenizer().bos] + ByteTokenizer().encode(sample.promptText)
        let adapter = LanguageModelEvaluator(model: model(fusion: .softmax))
        let values = try #require(
            try adapter.retrievalDiagnostics(
                prompt: prompt, needlePositions: sample.needlePositions,
                distractorPositions: sample.distractorPositions))
        for layer in 0..<2 {
            let answer = try #require(values["layer\(layer).mass"])
            let distractor = try #require(values["layer\(layer).distractor_mass"])
            #expect((0...1).contains(distractor))
            #expect(answer + distractor <= 1 + 1e-6)
        }
    }

    @Test func massOverAllSelectedChunksIsTheWholeFusion() throws {
        let tokens = ByteTokenizer().encode(String(repeating: "The sky is blue. ", count: 12))
        for fusion in [FusionKind.stickBreaking, .softmax, .joint] {
            let network = model(fusion: fusion)
            let pass = network.forward(tokens: tokens, batch: 1, sequenceLength: tokens.count)
            let last = tokens.count - 1
            let every = Set(0..<(tokens.count / network.config.chunkSize))
            let layers = pass.chunkRetrieval(of: every, position: last, config: network.config)
            #expect(layers.count == 2)
            for layer in layers {
                #expect(layer.recall == 1)
                // Softmax and joint weights sum to 1; stick-breaking keeps a remainder.
                if fusion == .stickBreaking {
                    #expect(layer.mass > 0 && layer.mass <= 1 + 1e-6)
                } else {
                    #expect(abs(layer.mass - 1) < 1e-4)
                }
            }
            // One selected chunk of layer 0, KV head 0: its fusion weight (over 2 heads).
            if fusion != .joint {
                let k = network.config.topK
                let nkv = network.config.nKvHeads
                let chunk = Int(pass.selections[0][last * nkv * k])
                let weights = pass.fusionWeights[0]
                var expected = 0.0
                for g in 0..<nkv {
                    let base = (last * nkv + g) * k
                    for s in 0..<k where Int(pass.selections[0][base + s]) == chunk {
                        expected += Double(weights[base + s])
                    }
                }
                let single = pass.chunkRetrieval(
                    of: [chunk], position: last, config: network.config)[0]
                #expect(abs(single.mass - expected / Double(nkv)) < 1e-6)
            }
        }
    }

    @Test func summaryAveragesDiagnosticsPerTaskAndLengthAndReportsThem() throws {
        func result(_ task: String, _ length: Int, _ recall: Double, _ mass: Double?)
            -> EvalResult
        {
            var diagnostics = ["layer0.recall": recall, "layer1.recall": 1 - recall]
            if let mass { diagnostics["layer0.mass"] = mass }
            return EvalResult(
                suite: "ruler", task: task, length: length, index: 0, depth: nil, score: 1,
                prediction: "", outputs: [], promptTokens: length, seconds: 0,
                needlePositions: [5], diagnostics: diagnostics)
        }
        let results = [
            result("a", 512, 1, 0.5), result("a", 512, 0, nil), result("a", 1024, 0.5, 0.25),
            result("b", 512, 0, 0),
        ]
        let summary = EvalSummary(results: results)
        let cell = try #require(summary.cells.first { $0.task == "a" && $0.length == 512 })
        #expect(cell.diagnostics?["layer0.recall"] == 0.5)
        #expect(cell.diagnostics?["layer0.mass"] == 0.5)  // only samples that report it
        #expect(summary.diagnostics["layer1.recall"] == 0.625)
        #expect(summary.layerDiagnosticNames == ["layer0.mass", "layer0.recall", "layer1.recall"])
        let markdown = EvalReport.markdown(summary)
        #expect(markdown.contains("| a | 512 | 2 | 0.500 | 0.500 | 0.500 |"))
        let plot = try #require(EvalReport.retrievalPlot(summary, metric: "recall"))
        #expect(plot.series.map(\.name) == ["layer0", "layer1"])
        #expect(plot.series[0].points.map(\.y) == [0.25, 0.5])  // mean of a and b at 512
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try EvalReport.write(summary: summary, results: results, to: directory.url)
        let files = try directory.contents()
        #expect(files.contains("retrieval_recall_vs_length.svg"))
        #expect(files.contains("retrieval_mass_vs_length.svg"))
        #expect(EvalReport.retrievalPlot(EvalSummary(results: []), metric: "mass") == nil)
    }
}
