import HSACore
import HSAModel
import HSATestSupport
import Testing

/// Whole-model gradient checks: for every parameter tensor, the analytic directional derivative
/// along a random direction inside that tensor must match central differences of the fp32 loss.
/// Top-k selection is not differentiable, so it is held fixed at the unperturbed selection.
@Suite struct ModelGradientTests {
    /// A tiny config with enough tokens for several chunks, plus one knob changed.
    static func config(_ change: (inout ModelConfig) -> Void = { _ in }) -> ModelConfig {
        var config = ModelConfig.tiny
        config.window = 8
        config.chunkSize = 4
        config.nUpperLayers = 2
        config.hsaLayers = [0, 1]
        change(&config)
        return config
    }

    static let knobs: [(String, ModelConfig)] = [
        ("default", config()),
        ("landmark encoder_mean", config { $0.landmark = .encoderMean }),
        ("landmark mean", config { $0.landmark = .mean }),
        ("chunk_kv identity", config { $0.chunkKv = .identity }),
        (
            "encoder_layers 0",
            config {
                $0.encoderLayers = 0
                $0.landmark = .mean
                $0.chunkKv = .identity
            }
        ),
        ("encoder_layers 2", config { $0.encoderLayers = 2 }),
        ("fusion softmax", config { $0.fusion = .softmax }),
        ("fusion joint", config { $0.fusion = .joint }),
        ("retrieval per_chunk", config { $0.retrieval = .perChunk }),
        ("residual sequential", config { $0.residual = .sequential }),
        (
            "shared retrieval query",
            config {
                $0.separateRetrievalQuery = false
                $0.retrievalDim = $0.headDim * $0.nKvHeads
            }
        ),
        ("qk_norm off", config { $0.qkNorm = false }),
        ("attention swa", config { $0.attention = .swa }),
        ("attention full", config { $0.attention = .full }),
        (
            "attention landmark",
            config {
                $0.attention = .landmark
                $0.landmarkBlock = 4
            }
        ),
        (
            "attention landmark rope",
            config {
                $0.attention = .landmark
                $0.landmarkBlock = 5
                $0.landmarkRope = true
            }
        ),
        // The HSA fields of the base config are ignored with `mixer: mamba2`. E 64, H 4 heads
        // of P 16, N 8; L 8 gives 3 chunks over T 23, the last one partial.
        (
            "mixer mamba2",
            config {
                $0.mixer = .mamba2
                $0.mambaStateDim = 8
                $0.mambaHeadDim = 16
                $0.mambaChunkLength = 8
            }
        ),
        (
            "mixer mamba2 groups 2 conv 3",
            config {
                $0.mixer = .mamba2
                $0.mambaStateDim = 4
                $0.mambaHeadDim = 16
                $0.mambaGroups = 2
                $0.mambaConvKernel = 3
                $0.mambaChunkLength = 5
            }
        ),
        ("tie_embeddings", config { $0.tieEmbeddings = true }),
        ("hsa_layers [1]", config { $0.hsaLayers = [1] }),
        ("retrieval_dim 16", config { $0.retrievalDim = 16 }),
    ]

    @Test(arguments: knobs.map(\.0))
    func directionalDerivativesMatchFiniteDifferences(knob: String) throws {
        let config = try #require(Self.knobs.first { $0.0 == knob }?.1)
        try config.validate()
        let model = LanguageModel(config: config, seed: 7)
        if config.usesMamba2 { sharpenMamba2ForGradientCheck(model) }
        let (batch, length) = (2, 23)
        var rng = SplitMix64(seed: 11)
        let tokens = (0..<(batch * length)).map { _ in Int32(rng.next() % 259) }
        let targets = (0..<(batch * length)).map { _ in Int32(rng.next() % 259) }
        var mask = [Float](repeating: 1, count: batch * length)
        mask[3] = 0
        mask[30] = 0

        func run() -> LanguageModel.Pass {
            model.forward(
                tokens: tokens, targets: targets, lossMask: mask, batch: batch,
                sequenceLength: length)
        }
        let base = run()
        model.zeroGradients()
        model.backward(base)
        model.fixedSelections = base.selections

        let failures = directionalGradientFailures(model, rng: &rng) { run().loss }
        #expect(failures.isEmpty, "\(knob): \(failures.joined(separator: "; "))")
    }
}
