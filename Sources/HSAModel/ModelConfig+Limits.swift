/// Generous upper bounds on a model config's sizes (docs/RELIABILITY.md, "Validation rules and
/// limits"). They are far above any model this toolkit trains, and low enough that every size
/// derived from them fits an `Int` and a mistyped value is refused before anything is
/// allocated, instead of trapping on overflow or aborting in an allocation.
public enum ModelLimits {
    /// `vocab_size`: 2^24 token ids.
    public static let vocabSize = 1 << 24
    /// `d_model`, `head_dim`, `retrieval_dim`.
    public static let width = 65_536
    /// `d_ff` (MLP widths of 4 × d_model are common).
    public static let feedForwardWidth = 4 * width
    /// `n_heads`, `n_kv_heads`.
    public static let heads = 1024
    /// `n_lower_layers`, `n_upper_layers`, `encoder_layers`.
    public static let layers = 1024
    /// `window`, `chunk_size`, `max_train_len`, `landmark_block`, in tokens.
    public static let length = 1 << 24
    /// `top_k`, chunks retrieved per token and KV head.
    public static let topK = 4096
    /// `top_k × chunk_size`, the retrieved tokens each query attends to.
    public static let retrievedTokens = 1 << 24
    /// The total parameter count: 2^34 (64 GiB of fp32 weights).
    public static let parameters = 1 << 34
}

extension ModelConfig {
    /// One integer size field and the values it may take.
    struct SizeRule {
        let field: String
        let value: Int
        let range: ClosedRange<Int>
    }

    /// Every integer size field with its allowed range. Fields that only an HSA model uses
    /// keep their upper bound without HSA (a mistyped value is still refused) but may be 0.
    var sizeRules: [SizeRule] {
        let hsaMinimum = usesHSA ? 1 : 0
        let mambaMinimum = usesMamba2 ? 1 : 0
        var rules = [
            SizeRule(field: "vocab_size", value: vocabSize, range: 1...ModelLimits.vocabSize),
            SizeRule(field: "d_model", value: dModel, range: 1...ModelLimits.width),
            SizeRule(field: "n_lower_layers", value: nLowerLayers, range: 0...ModelLimits.layers),
            SizeRule(field: "n_upper_layers", value: nUpperLayers, range: 0...ModelLimits.layers),
            SizeRule(field: "n_heads", value: nHeads, range: 1...ModelLimits.heads),
            SizeRule(field: "n_kv_heads", value: nKvHeads, range: 1...ModelLimits.heads),
            SizeRule(field: "head_dim", value: headDim, range: 1...ModelLimits.width),
            SizeRule(field: "d_ff", value: dFf, range: 1...ModelLimits.feedForwardWidth),
            SizeRule(field: "window", value: window, range: 1...ModelLimits.length),
            SizeRule(field: "max_train_len", value: maxTrainLen, range: 1...ModelLimits.length),
            SizeRule(
                field: "chunk_size", value: chunkSize, range: hsaMinimum...ModelLimits.length),
            SizeRule(field: "top_k", value: topK, range: hsaMinimum...ModelLimits.topK),
            SizeRule(field: "encoder_layers", value: encoderLayers, range: 0...ModelLimits.layers),
            SizeRule(
                field: "landmark_block", value: landmarkBlock,
                range: (usesLandmarks ? 1 : 0)...ModelLimits.length),
            SizeRule(
                field: "mamba_state_dim", value: mambaStateDim,
                range: mambaMinimum...ModelLimits.width),
            SizeRule(
                field: "mamba_head_dim", value: mambaHeadDim,
                range: mambaMinimum...ModelLimits.width),
            SizeRule(
                field: "mamba_expand", value: mambaExpand, range: mambaMinimum...ModelLimits.heads),
            SizeRule(
                field: "mamba_groups", value: mambaGroups, range: mambaMinimum...ModelLimits.heads),
            SizeRule(
                field: "mamba_conv_kernel", value: mambaConvKernel,
                range: mambaMinimum...ModelLimits.heads),
            SizeRule(
                field: "mamba_chunk_length", value: mambaChunkLength,
                range: mambaMinimum...ModelLimits.length),
        ]
        if let retrievalDim {
            rules.append(
                SizeRule(
                    field: "retrieval_dim", value: retrievalDim,
                    range: hsaMinimum...ModelLimits.width))
        }
        return rules
    }

    /// Throws `ConfigError.invalid` naming the first size field outside its range, then
    /// `ConfigError.tooManyParameters` if the model would be too large. Runs before any other
    /// check, so later checks (and `ParameterLayout`) only see sizes whose products fit an `Int`.
    func checkSizes() throws {
        for rule in sizeRules where !rule.range.contains(rule.value) {
            throw ConfigError.invalid(
                field: rule.field,
                reason: "must be in \(rule.range.lowerBound)...\(rule.range.upperBound), "
                    + "got \(rule.value)")
        }
        guard ropeTheta.isFinite, ropeTheta > 0 else {
            throw ConfigError.invalid(
                field: "rope_theta", reason: "must be finite and positive, got \(ropeTheta)")
        }
        if usesHSA, topK * chunkSize > ModelLimits.retrievedTokens {
            throw ConfigError.invalid(
                field: "top_k",
                reason: "top_k × chunk_size must be at most \(ModelLimits.retrievedTokens), "
                    + "got \(topK) × \(chunkSize)")
        }
        let count = checkedParameterCount
        guard let count, count <= ModelLimits.parameters else {
            throw ConfigError.tooManyParameters(count: count, limit: ModelLimits.parameters)
        }
    }

    /// The parameter count summed with overflow-checked arithmetic; nil if it overflows `Int`.
    /// Builds one spec per tensor, so only call it once the layer counts are in range.
    var checkedParameterCount: Int? {
        var total = 0
        for spec in ParameterLayout.specs(for: self) {
            var count = 1
            for dimension in spec.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                if overflow { return nil }
                count = product
            }
            let (sum, overflow) = total.addingReportingOverflow(count)
            if overflow { return nil }
            total = sum
        }
        return total
    }
}
