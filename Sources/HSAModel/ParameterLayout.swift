import Foundation
import HSACore

/// How a parameter is initialised (MODEL.md "Training objective and initialisation").
public enum ParameterInit: Sendable, Equatable {
    case normal(std: Double)
    case ones
    case zeros
    /// Uniform in [-bound, bound] (PyTorch's default for the Mamba2 conv, 1 / sqrt(K)).
    case uniform(bound: Double)
    /// log(u), u uniform in [low, high]: Mamba2's A_log (A = -exp(A_log)).
    case logOfUniform(low: Double, high: Double)
    /// softplus⁻¹(dt), dt log-uniform in [low, high] (at least 1e-4): Mamba2's dt_bias, so the
    /// initial step sizes softplus(dt_bias) are log-uniform there.
    case inverseSoftplusOfLogUniform(low: Double, high: Double)
}

/// One named parameter tensor of the model.
public struct ParameterSpec: Sendable, Equatable {
    /// Checkpoint name, e.g. `lower.0.attn.q_proj.weight`.
    public var name: String
    /// Shape; linear weights are (out_features, in_features).
    public var shape: [Int]
    public var initialization: ParameterInit
    /// Element count.
    public var count: Int { shape.reduce(1, *) }
    /// AdamW decays matrices only.
    public var decays: Bool { shape.count == 2 }
}

/// The single mapping between checkpoint tensor names and slices of one flat arena
/// (llm.c's "one allocation, named views").
public struct ParameterLayout: Sendable {
    /// Parameters in arena order.
    public let specs: [ParameterSpec]
    /// Arena offset of each parameter, by name.
    public let offsets: [String: Int]
    /// Total element count.
    public let totalCount: Int

    /// The layout of every parameter that `config` has.
    public init(config: ModelConfig) {
        let specs = Self.specs(for: config)
        var offsets: [String: Int] = [:]
        var total = 0
        for spec in specs {
            offsets[spec.name] = total
            total += spec.count
        }
        self.specs = specs
        self.offsets = offsets
        self.totalCount = total
    }

    /// Every parameter that `config` has, in arena order. Shapes only: nothing is allocated
    /// and no total is summed, so `ModelConfig.validate` can count them with checked
    /// arithmetic first.
    public static func specs(for config: ModelConfig) -> [ParameterSpec] {
        var specs: [ParameterSpec] = []
        let c = config.dModel
        let std = 0.02
        let outputStd = 0.02 / Double(2 * (config.nLowerLayers + config.nUpperLayers)).squareRoot()
        func add(_ name: String, _ shape: [Int], _ initialization: ParameterInit) {
            specs.append(ParameterSpec(name: name, shape: shape, initialization: initialization))
        }
        func decoderLayer(_ prefix: String, bias: Bool) {
            let qWidth = config.nHeads * config.headDim
            let kvWidth = config.nKvHeads * config.headDim
            add("\(prefix).attn_norm.weight", [c], .ones)
            add("\(prefix).attn.q_proj.weight", [qWidth, c], .normal(std: std))
            add("\(prefix).attn.k_proj.weight", [kvWidth, c], .normal(std: std))
            add("\(prefix).attn.v_proj.weight", [kvWidth, c], .normal(std: std))
            if bias {
                add("\(prefix).attn.q_proj.bias", [qWidth], .zeros)
                add("\(prefix).attn.k_proj.bias", [kvWidth], .zeros)
                add("\(prefix).attn.v_proj.bias", [kvWidth], .zeros)
            }
            add("\(prefix).attn.o_proj.weight", [c, qWidth], .normal(std: outputStd))
            if config.qkNorm {
                add("\(prefix).attn.q_norm.weight", [config.headDim], .ones)
                add("\(prefix).attn.k_norm.weight", [config.headDim], .ones)
            }
            add("\(prefix).mlp_norm.weight", [c], .ones)
            add("\(prefix).mlp.gate_proj.weight", [config.dFf, c], .normal(std: std))
            add("\(prefix).mlp.up_proj.weight", [config.dFf, c], .normal(std: std))
            add("\(prefix).mlp.down_proj.weight", [c, config.dFf], .normal(std: outputStd))
        }

        // A `mixer: mamba2` layer: RMSNorm, the Mamba2 mixer (HF Mamba2's tensor names under
        // `mixer.`), residual; then the usual MLP sublayer.
        func mamba2Layer(_ prefix: String) {
            let (e, h, k) = (config.mambaInnerDim, config.mambaHeads, config.mambaConvKernel)
            let convBound = 1 / Double(k).squareRoot()
            add("\(prefix).mixer_norm.weight", [c], .ones)
            add(
                "\(prefix).mixer.in_proj.weight", [config.mambaProjectionWidth, c],
                .normal(std: std))
            add(
                "\(prefix).mixer.conv1d.weight", [config.mambaConvChannels, k],
                .uniform(bound: convBound))
            add(
                "\(prefix).mixer.conv1d.bias", [config.mambaConvChannels],
                .uniform(bound: convBound))
            add("\(prefix).mixer.dt_bias", [h], .inverseSoftplusOfLogUniform(low: 0.001, high: 0.1))
            add("\(prefix).mixer.A_log", [h], .logOfUniform(low: 1, high: 16))
            add("\(prefix).mixer.D", [h], .ones)
            add("\(prefix).mixer.norm.weight", [e], .ones)
            add("\(prefix).mixer.out_proj.weight", [c, e], .normal(std: outputStd))
            add("\(prefix).mlp_norm.weight", [c], .ones)
            add("\(prefix).mlp.gate_proj.weight", [config.dFf, c], .normal(std: std))
            add("\(prefix).mlp.up_proj.weight", [config.dFf, c], .normal(std: std))
            add("\(prefix).mlp.down_proj.weight", [c, config.dFf], .normal(std: outputStd))
        }
        if config.usesMamba2 {
            add("embed.weight", [config.vocabSize, c], .normal(std: std))
            for l in 0..<config.nLowerLayers { mamba2Layer("lower.\(l)") }
            for l in 0..<config.nUpperLayers { mamba2Layer("upper.\(l)") }
            add("norm.weight", [c], .ones)
            if !config.tieEmbeddings {
                add("lm_head.weight", [config.vocabSize, c], .normal(std: std))
            }
            return specs
        }

        add("embed.weight", [config.vocabSize, c], .normal(std: std))
        // Right after the table, so the two form one (V + 1, C) table whose last row is the
        // landmark's (LandmarkRows.swift).
        if config.usesLandmarks { add("embed.landmark", [c], .normal(std: std)) }
        for l in 0..<config.nLowerLayers { decoderLayer("lower.\(l)", bias: false) }
        if config.usesHSA {
            if config.hasCLS { add("encoder.cls", [c], .normal(std: std)) }
            if config.hasEncoder {
                for e in 0..<config.encoderLayers {
                    decoderLayer("encoder.layers.\(e)", bias: true)
                }
            }
            add("encoder.norm.weight", [c], .ones)
            add(
                "encoder.landmark_proj.weight", [config.resolvedRetrievalDim, c], .normal(std: std))
            let kvWidth = config.nKvHeads * config.headDim
            add("encoder.k_proj.weight", [kvWidth, c], .normal(std: std))
            add("encoder.v_proj.weight", [kvWidth, c], .normal(std: std))
        }
        for l in 0..<config.nUpperLayers {
            decoderLayer("upper.\(l)", bias: false)
            guard config.isHSALayer(l) else { continue }
            let prefix = "upper.\(l).hsa"
            add("\(prefix).norm.weight", [c], .ones)
            if config.separateRetrievalQuery {
                add(
                    "\(prefix).q_slc_proj.weight", [config.resolvedRetrievalDim, c],
                    .normal(std: std))
            }
            add("\(prefix).q_proj.weight", [config.nHeads * config.headDim, c], .normal(std: std))
            add(
                "\(prefix).o_proj.weight", [c, config.nHeads * config.headDim],
                .normal(std: outputStd))
            if config.qkNorm {
                add("\(prefix).q_norm.weight", [config.headDim], .ones)
                add("\(prefix).k_norm.weight", [config.headDim], .ones)
            }
        }
        add("norm.weight", [c], .ones)
        if !config.tieEmbeddings {
            add("lm_head.weight", [config.vocabSize, c], .normal(std: std))
        }
        return specs
    }

    /// The spec named `name`, if the model has it.
    public func spec(named name: String) -> ParameterSpec? {
        specs.first { $0.name == name }
    }
}

/// One arena holding a value for every parameter (the parameters themselves, their gradients,
/// or an optimizer moment), with named views.
public final class ParameterStore: @unchecked Sendable {
    public let layout: ParameterLayout
    /// (totalCount) all values, in layout order.
    public let storage: Tensor

    /// A zero-filled store.
    public init(layout: ParameterLayout) {
        self.layout = layout
        self.storage = Tensor(shape: [layout.totalCount])
    }

    /// The view of parameter `name`; traps on an unknown name (a layout bug).
    public func tensor(_ name: String) -> Tensor {
        guard let offset = layout.offsets[name], let spec = layout.spec(named: name) else {
            preconditionFailure("no parameter named \(name)")
        }
        return Tensor(viewing: storage, offset: offset, shape: spec.shape)
    }

    /// The view of parameter `name`, or nil when the model does not have it.
    public func optionalTensor(_ name: String) -> Tensor? {
        layout.offsets[name] == nil ? nil : tensor(name)
    }

    /// Fills every parameter from its spec's initialisation with a generator seeded by `seed`.
    /// Parameters are drawn in layout order, so the result depends only on the config and seed.
    public func initialize(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        storage.synchronize()  // a device may still be zero-filling the arena
        for spec in layout.specs {
            guard let offset = layout.offsets[spec.name] else { continue }
            let values = storage.data + offset
            switch spec.initialization {
            case .ones: values.update(repeating: 1, count: spec.count)
            case .zeros: values.update(repeating: 0, count: spec.count)
            case .normal(let std):
                for i in 0..<spec.count { values[i] = Float(rng.nextNormal() * std) }
            case .uniform(let bound):
                for i in 0..<spec.count {
                    values[i] = Float((2 * rng.nextUniform() - 1) * bound)
                }
            case .logOfUniform(let low, let high):
                for i in 0..<spec.count {
                    values[i] = Float(log(low + (high - low) * rng.nextUniform()))
                }
            case .inverseSoftplusOfLogUniform(let low, let high):
                for i in 0..<spec.count {
                    let dt = max(
                        exp(log(low) + (log(high) - log(low)) * rng.nextUniform()), 1e-4)
                    values[i] = Float(dt + log(-expm1(-dt)))
                }
            }
        }
    }
}
