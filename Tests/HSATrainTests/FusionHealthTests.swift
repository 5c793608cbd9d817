import Foundation
import HSA
import HSATestSupport
import Testing

/// The fusion-health summary (`Pass.fusionHealth`) and its place in the training log.
@Suite struct FusionHealthTests {
    @Test func massAndPeakFollowTheFusionRule() throws {
        let tokens = ByteTokenizer().encode(String(repeating: "The sky is blue. ", count: 6))
        for fusion in [FusionKind.stickBreaking, .softmax] {
            let config = ModelConfig.tinyWithTwoHSALayers(fusion: fusion)
            let pass = LanguageModel(config: config, seed: 3)
                .forward(tokens: tokens, batch: 1, sequenceLength: tokens.count)
            let health = pass.fusionHealth(config: config)
            #expect(health.count == 2)
            for layer in health {
                // The largest of K weights lies between their mean and their sum.
                #expect(layer.peak <= layer.mass + 1e-9)
                #expect(layer.peak >= layer.mass / Double(config.topK) - 1e-9)
                if fusion == .softmax {
                    #expect(abs(layer.mass - 1) < 1e-5)
                } else {
                    // Fresh weights: scores near 0, sigmoid 1/2 per slot, so 1/2 + 1/4 at most.
                    #expect(layer.mass > 0.4 && layer.mass < 0.76)
                }
            }
        }
        let joint = ModelConfig.tinyWithTwoHSALayers(fusion: .joint)
        let pass = LanguageModel(config: joint, seed: 3)
            .forward(tokens: tokens, batch: 1, sequenceLength: tokens.count)
        #expect(pass.fusionHealth(config: joint).isEmpty)
    }

    @Test func everyTenthStepReportsAndLogsIt() throws {
        let directory = try TemporaryDirectory("fusion-health")
        defer { directory.remove() }
        var options = TrainingOptions()
        options.steps = Trainer.fusionHealthEvery + 1
        options.batchSize = 2
        options.sequenceLength = 32
        options.evalEvery = 0
        options.checkpointEvery = 0
        let batches = randomBatches(count: 1, batchSize: 2, sequenceLength: 32, seed: 4)
        let trainer = Trainer(
            model: LanguageModel(config: .tinyWithTwoHSALayers(fusion: .stickBreaking), seed: 2),
            options: options, source: CyclingBatches(batches), validation: [],
            runDirectory: directory.url, tokenizer: nil)
        let recorder = try TrainingRecorder(runDirectory: directory.url, resumedStep: nil)
        var reports: [StepReport] = []
        try trainer.run { event in
            try recorder.record(event)
            if case .step(let report) = event { reports.append(report) }
        }
        for report in reports {
            let due = report.step % Trainer.fusionHealthEvery == 0
            #expect(report.fusionMass.count == (due ? 2 : 0))
            #expect(report.fusionPeak.count == report.fusionMass.count)
            #expect(report.line.contains("hsa_mass=") == due)
        }
        let rows = try JSONLines.read(directory.file("log.jsonl"))
        let logged = rows.filter { $0["hsa_mass"] != nil }.compactMap { $0["step"] as? Int }
        #expect(logged == [Trainer.fusionHealthEvery])
    }
}
