import Foundation
import HSACore
import HSAData
import HSAModel

/// The part of a training checkpoint that is not tensors: `trainer_state.json`.
public struct TrainerState: Codable, Sendable, Equatable {
    /// Optimizer steps completed.
    public var step: Int
    /// The batch source's position (opaque, base64 in JSON).
    public var dataState: Data
    /// Tokens consumed so far.
    public var tokensSeen: Int
    public var options: TrainingOptions
    /// Steps skipped for a non-finite loss or gradient norm (`NonFinitePolicy.skip`) so far.
    /// nil (absent in older checkpoints) means 0.
    public var skippedSteps: Int?

    enum CodingKeys: String, CodingKey {
        case step
        case dataState = "data_state"
        case tokensSeen = "tokens_seen"
        case options
        case skippedSteps = "skipped_steps"
    }
}

/// A training checkpoint directory: the model files of MODEL.md plus `optimizer.safetensors`
/// (AdamW moments as `m.<name>` / `v.<name>`, sharded like the model) and `trainer_state.json`;
/// with state passing also `CarriedMamba2States.fileName` (the carried Mamba2 states, whose lane
/// positions are the data state in `trainer_state.json`).
/// Written into a temporary directory and renamed into place, so a crash never leaves a
/// half-written checkpoint under the final name.
public enum TrainingCheckpoint {
    /// The directory name of the checkpoint after `step` steps.
    public static func name(step: Int) -> String { String(format: "step-%08d", step) }

    /// Writes a complete checkpoint to `checkpoints/step-N` under `runDirectory`.
    /// - Parameter carriedStates: the state-passing trainer's Mamba2 states, or nil.
    /// - Throws: `NonFiniteError.checkpoint`, before writing anything, when a parameter or an
    ///   optimizer moment is NaN or infinite: every checkpoint on disk can be resumed from.
    public static func save(
        model: LanguageModel, optimizer: AdamWOptimizer, state: TrainerState,
        tokenizer: (any Tokenizer)?,
        runDirectory: URL, maxShardBytes: Int?, carriedStates: [SafetensorsEntry]? = nil
    ) throws -> URL {
        try requireFinite(model: model, optimizer: optimizer, step: state.step)
        let fileManager = FileManager.default
        let parent = runDirectory.appendingPathComponent("checkpoints")
        try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        removeStaleTemporaries(runDirectory: runDirectory)
        let final = parent.appendingPathComponent(name(step: state.step))
        let temporary = parent.appendingPathComponent(
            ".\(name(step: state.step)).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? fileManager.removeItem(at: temporary)
        do {
            try model.save(to: temporary, maxShardBytes: maxShardBytes)
            try tokenizer?.save(to: temporary.appendingPathComponent("tokenizer.json"))
            try SafetensorsShards.write(
                optimizer.m.safetensorsEntries(prefix: "m.")
                    + optimizer.v.safetensorsEntries(prefix: "v."),
                metadata: ["adamw_step": String(optimizer.step)], directory: temporary,
                baseName: "optimizer", maxShardBytes: maxShardBytes)
            if let carriedStates {
                try CarriedMamba2States.write(carriedStates, into: temporary)
            }
            try AtomicFile.writeJSON(
                state, to: temporary.appendingPathComponent("trainer_state.json"))
            try? fileManager.removeItem(at: final)
            try fileManager.moveItem(at: temporary, to: final)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw error
        }
        return final
    }

    /// Throws `NonFiniteError.checkpoint` unless parameters and AdamW moments are all finite.
    static func requireFinite(model: LanguageModel, optimizer: AdamWOptimizer, step: Int) throws {
        let stores = [
            ("parameter", model.parameters), ("AdamW m of", optimizer.m),
            ("AdamW v of", optimizer.v),
        ]
        for (store, values) in stores {
            if let tensor = values.firstNonFiniteTensor() {
                throw NonFiniteError.checkpoint(step: step, store: store, tensor: tensor)
            }
        }
    }

    /// Restores model parameters, optimizer moments and the trainer state from `directory`.
    public static func load(
        from directory: URL, into model: LanguageModel, optimizer: AdamWOptimizer
    ) throws -> TrainerState {
        let collection = try SafetensorsShards.read(directory: directory, baseName: "model")
        try model.parameters.load(from: collection, source: directory.path)
        let moments = try SafetensorsShards.read(directory: directory, baseName: "optimizer")
        try optimizer.m.load(from: moments, prefix: "m.", source: directory.path)
        try optimizer.v.load(from: moments, prefix: "v.", source: directory.path)
        let state = try state(at: directory)
        // Updates applied: skipped steps advanced the trainer but not AdamW's bias correction.
        optimizer.step = state.step - (state.skippedSteps ?? 0)
        return state
    }

    /// Reads and validates `trainer_state.json` from the checkpoint `directory`.
    public static func state(at directory: URL) throws -> TrainerState {
        let stateURL = directory.appendingPathComponent("trainer_state.json")
        guard let data = try? Data(contentsOf: stateURL) else {
            throw CheckpointError.missingFile(stateURL.path)
        }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: data) } catch {
            throw CheckpointError.invalid(
                file: stateURL.path,
                reason: (error as? DecodingError)?.fieldDescription ?? "\(error)")
        }
        try state.validate(file: stateURL.path)
        return state
    }

    /// The run definition `directory` was trained with: its trainer state's options and its
    /// `config.json`, read without loading any tensor.
    public static func runDefinition(at directory: URL) throws -> RunDefinition {
        RunDefinition(
            options: try state(at: directory).options,
            model: try ModelConfig.load(from: directory.appendingPathComponent("config.json")))
    }
}
