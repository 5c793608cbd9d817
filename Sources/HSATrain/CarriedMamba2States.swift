import Foundation
import HSACore
import HSAModel

/// The Mamba2 states a state-passing trainer (`TrainingOptions.statePassing`) carries from one
/// step to the next: per micro-batch, one `Mamba2State` per layer for the rows this rank trains
/// (rows `rank, rank + N, ...` of the global batch, `TrainingBatch.slice`). The loader gives a
/// micro-batch's rows the same lanes every step, so a row's state is always its lane's.
///
/// The forward pass advances the states; the backward pass treats them as constants
/// (truncated backpropagation), so nothing here is ever differentiated.
///
/// In checkpoints (`fileName`) every tensor holds all B rows of the global batch, in global row
/// order, whatever the number of ranks that wrote it: `micro.<m>.layer.<l>.conv_history`
/// (B, K - 1, E + 2GN) and `micro.<m>.layer.<l>.ssd` (B, H, P, N), with the metadata
/// `format` = `formatVersion`.
final class CarriedMamba2States {
    /// The checkpoint file of the carried states.
    static let fileName = "carried_states.safetensors"
    /// The layout version written into the file's metadata and required when read.
    static let formatVersion = "1"

    /// [micro-batch][layer], each for this rank's rows.
    private let states: [[Mamba2State]]
    private let globalBatch: Int
    private let rank: Int
    private let worldSize: Int

    /// Zero states (the start of every lane) for `microBatches` micro-batches of this rank's
    /// share of `globalBatch` rows.
    init(model: LanguageModel, microBatches: Int, globalBatch: Int, rank: Int, worldSize: Int) {
        let localBatch = globalBatch / worldSize
        states = (0..<microBatches).map { _ in model.mamba2States(batch: localBatch) }
        self.globalBatch = globalBatch
        self.rank = rank
        self.worldSize = worldSize
    }

    /// The states micro-batch `index` runs from; zeroed first unless `batch` continues the
    /// streams of the previous step (its lanes wrapped, or nothing came before).
    func states(forMicroBatch index: Int, of batch: TrainingBatch) -> [Mamba2State] {
        if !batch.continuesStreams { states[index].forEach { $0.reset() } }
        return states[index]
    }

    // MARK: - Checkpoints

    /// Every state as a tensor of all global rows, in checkpoint order. With several ranks it
    /// is a collective (every rank must call it): each rank fills its rows and zeros elsewhere,
    /// and the sum over the ranks, exact because each element has one non-zero addend, puts
    /// all rows on every rank.
    func globalEntries(reducer: (any GradientReducer)?) throws -> [SafetensorsEntry] {
        var entries: [SafetensorsEntry] = []
        try forEachTensor { name, local in
            let global = Tensor(shape: [globalBatch] + local.shape.dropFirst())
            global.zero()
            copyRows(local, into: global)
            if let reducer, worldSize > 1 {
                try reducer.allReduceSumInBuckets(global.data, count: global.count)
            }
            entries.append(SafetensorsEntry(name: name, tensor: global))
        }
        return entries
    }

    /// Writes `entries` (from `globalEntries`) into the checkpoint `directory`.
    static func write(_ entries: [SafetensorsEntry], into directory: URL) throws {
        try SafetensorsWriter.write(
            entries, metadata: ["format": formatVersion],
            to: directory.appendingPathComponent(fileName))
    }

    /// Sets this rank's rows from the checkpoint `directory`.
    /// - Throws: `CheckpointError` when the file is missing, of another format version, or
    ///   lacks a tensor or has one of another shape (another batch size, micro-batch count or
    ///   model).
    func load(from directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError.missingFile(url.path)
        }
        let file = try SafetensorsFile(url: url)
        guard file.metadata["format"] == Self.formatVersion else {
            throw CheckpointError.invalid(
                file: url.path,
                reason: "format \(file.metadata["format"] ?? "(none)"), this build reads "
                    + Self.formatVersion)
        }
        try forEachTensor { name, local in
            guard let info = file.tensors[name] else {
                throw CheckpointError.missingTensor(file: url.path, name: name)
            }
            let shape = [globalBatch] + local.shape.dropFirst()
            guard info.shape == shape else {
                throw CheckpointError.shapeMismatch(
                    file: url.path, name: name, expected: shape, actual: info.shape)
            }
            copyRows(from: try file.tensor(name), into: local)
        }
    }

    // MARK: - Rows

    /// Calls `body(name, tensor)` for every carried tensor (this rank's rows) with its name in
    /// checkpoints, in checkpoint order.
    private func forEachTensor(_ body: (String, Tensor) throws -> Void) rethrows {
        for (micro, layers) in states.enumerated() {
            for (layer, state) in layers.enumerated() {
                for (kind, tensor) in [("conv_history", state.convHistory), ("ssd", state.ssd)] {
                    try body("micro.\(micro).layer.\(layer).\(kind)", tensor)
                }
            }
        }
    }

    /// The global row of this rank's row `row`.
    private func globalRow(_ row: Int) -> Int { rank + row * worldSize }

    /// Copies this rank's rows of `local` to their global rows of `global`.
    private func copyRows(_ local: Tensor, into global: Tensor) {
        let width = local.count / local.shape[0]
        for row in 0..<local.shape[0] {
            (global.data + globalRow(row) * width).update(
                from: local.data + row * width, count: width)
        }
    }

    /// Copies this rank's global rows of `global` to `local`.
    private func copyRows(from global: Tensor, into local: Tensor) {
        let width = local.count / local.shape[0]
        for row in 0..<local.shape[0] {
            (local.data + row * width).update(
                from: global.data + globalRow(row) * width, count: width)
        }
    }
}
