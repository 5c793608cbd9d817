import Foundation
import HSACPU
import HSACUDA
import HSACore
import HSAModel
import HSAReport
import HSATrain

// The whole-model half of `hsa selftest --backend cuda`: one forward+backward of the full model
// (and 3 AdamW steps) on the CPU backend and on the CUDA managed backend from the same seed,
// compared output by output.

// MARK: - Model cases

/// One model run's results, copied to host arrays.
struct ModelRunResult {
    var loss: Float
    var logits: [Float]
    /// Per parameter spec, in layout order: (name, gradient values).
    var gradients: [(String, [Float])]
    var selections: [[Int32]]
    var trainingLosses: [Float]
}

extension ParitySuite {
    // Whole-model tolerances: relative L2 error of each output against the CPU
    // (‖g − c‖ / ‖c‖); losses by relative difference.
    static let modelNorm = 1e-3
    static let lossRelative = 1e-4

    /// The knob variants checked on each preset: the default, then one knob changed at a time.
    static func modelVariants(_ base: ModelConfig) -> [(String, ModelConfig)] {
        var variants: [(String, ModelConfig)] = [("default", base)]
        func variant(_ name: String, _ change: (inout ModelConfig) -> Void) {
            var config = base
            change(&config)
            variants.append((name, config))
        }
        variant("landmark=encoder_mean") { $0.landmark = .encoderMean }
        variant("landmark=mean") { $0.landmark = .mean }
        variant("fusion=softmax") { $0.fusion = .softmax }
        variant("fusion=joint") { $0.fusion = .joint }
        variant("retrieval=per_chunk") { $0.retrieval = .perChunk }
        variant("residual=sequential") { $0.residual = .sequential }
        variant("qk_norm=false") { $0.qkNorm = false }
        variant("chunk_kv=identity") { $0.chunkKv = .identity }
        variant("separate_retrieval_query=false") {
            // Without a projection the retrieval query is the group mean of the query heads.
            $0.separateRetrievalQuery = false
            $0.retrievalDim = $0.nKvHeads * $0.headDim
        }
        variant("attention=swa") { $0.attention = .swa }
        variant("attention=full") { $0.attention = .full }
        return variants
    }

    /// Runs every variant of `preset` at (batch, length) on both backends and records rows.
    mutating func wholeModel(
        preset: String, base: ModelConfig, batch: Int, length: Int, gpu: CUDAManagedBackend
    ) throws {
        for (name, config) in Self.modelVariants(base) {
            let label = "model \(preset) B=\(batch) T=\(length) \(name)"
            do { try config.validate() } catch {
                Terminal.printLine("\(label): skipped (\(error))")
                continue
            }
            var tokenRng = SplitMix64(seed: rng.next())
            let n = batch * length
            let tokens = (0..<n).map { _ in Int32(tokenRng.next() % UInt64(config.vocabSize)) }
            let targets = (0..<n).map { _ in Int32(tokenRng.next() % UInt64(config.vocabSize)) }
            let previous = ComputeBackends.current
            defer { ComputeBackends.current = previous }
            ComputeBackends.current = CPUBackend.shared
            let cpu = Self.runModel(config, tokens, targets, batch, length)
            ComputeBackends.current = gpu
            let device = Self.runModel(config, tokens, targets, batch, length)
            ComputeBackends.current = previous
            let before = rows.count
            compareModel(label, cpu: cpu, gpu: device)
            printRows(from: before)
        }
    }

    /// Seed 7 parameters; one forward+backward, then 3 AdamW steps from the same start.
    static func runModel(
        _ config: ModelConfig, _ tokens: [Int32], _ targets: [Int32], _ batch: Int, _ length: Int
    ) -> ModelRunResult {
        let model = LanguageModel(config: config, seed: 7)
        model.zeroGradients()
        let pass = model.forward(
            tokens: tokens, targets: targets, batch: batch, sequenceLength: length)
        model.backward(pass)
        var gradients: [(String, [Float])] = []
        for spec in model.layout.specs {
            gradients.append((spec.name, model.gradients.tensor(spec.name).toArray()))
        }
        var result = ModelRunResult(
            loss: pass.loss, logits: pass.logits.toArray(), gradients: gradients,
            selections: pass.selections, trainingLosses: [])
        let optimizer = AdamWOptimizer(layout: model.layout)
        for _ in 0..<3 {
            model.zeroGradients()
            let step = model.forward(
                tokens: tokens, targets: targets, batch: batch, sequenceLength: length)
            model.backward(step)
            optimizer.update(
                parameters: model.parameters, gradients: model.gradients, learningRate: 1e-3)
            result.trainingLosses.append(step.loss)
        }
        return result
    }

    mutating func compareModel(_ label: String, cpu: ModelRunResult, gpu: ModelRunResult) {
        appendLossRow("\(label) loss", [cpu.loss], [gpu.loss])
        appendNormRow("\(label) logits", cpu.logits, gpu.logits)
        // Gradients: the worst parameter by relative L2 error names the row.
        var worst = ("-", 0.0, 0.0)
        var total = 0
        var failures = 0
        for ((name, c), (_, g)) in zip(cpu.gradients, gpu.gradients) {
            let (relative, absolute) = Self.errors(c, g)
            total += c.count
            if !(relative <= Self.modelNorm) { failures += 1 }
            if !(relative <= worst.1) || worst.0 == "-" { worst = (name, relative, absolute) }
        }
        rows.append(
            ParityRow(
                op: "\(label) grads (\(cpu.gradients.count), worst \(worst.0))", count: total,
                maxAbsolute: worst.2, maxRelative: worst.1, atol: 0, rtol: Self.modelNorm,
                failures: failures))
        let mismatches = zip(cpu.selections.joined(), gpu.selections.joined())
            .filter { $0 != $1 }.count
        if !cpu.selections.isEmpty {
            rows.append(
                ParityRow(
                    op: "\(label) selected chunks", count: cpu.selections.joined().count,
                    maxAbsolute: Double(mismatches), maxRelative: 0, atol: 0, rtol: 0,
                    failures: mismatches))
        }
        appendLossRow("\(label) 3 train-step losses", cpu.trainingLosses, gpu.trainingLosses)
    }

    /// ‖g − c‖ / ‖c‖ (NaN-propagating) and max |g − c|.
    static func errors(_ c: [Float], _ g: [Float]) -> (relative: Double, absolute: Double) {
        var difference = 0.0
        var reference = 0.0
        var absolute = 0.0
        for (a, b) in zip(c, g) {
            let d = Double(b) - Double(a)
            difference += d * d
            reference += Double(a) * Double(a)
            absolute = max(absolute, abs(d))
            if !d.isFinite { absolute = .nan }
        }
        if c.count != g.count { return (.nan, .nan) }
        let relative = reference > 0 ? (difference / reference).squareRoot() : difference
        return (relative, absolute)
    }

    mutating func appendNormRow(_ op: String, _ c: [Float], _ g: [Float]) {
        let (relative, absolute) = Self.errors(c, g)
        rows.append(
            ParityRow(
                op: op, count: c.count, maxAbsolute: absolute, maxRelative: relative, atol: 0,
                rtol: Self.modelNorm, failures: relative <= Self.modelNorm ? 0 : 1))
    }

    mutating func appendLossRow(_ op: String, _ c: [Float], _ g: [Float]) {
        var row = ParityRow(
            op: op + " " + g.map { String(format: "%.5f", $0) }.joined(separator: ","),
            count: c.count, maxAbsolute: 0, maxRelative: 0, atol: 0, rtol: Self.lossRelative,
            failures: c.count == g.count ? 0 : 1)
        for (a, b) in zip(c, g) {
            let error = abs(Double(a) - Double(b))
            let relative = error / max(abs(Double(a)), 1e-30)
            row.maxAbsolute = max(row.maxAbsolute, error)
            row.maxRelative = max(row.maxRelative, relative)
            if !(relative <= Self.lossRelative) { row.failures += 1 }
        }
        rows.append(row)
    }
}
