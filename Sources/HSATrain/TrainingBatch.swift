import Foundation

/// One batch of B sequences of T tokens with next-token targets and a loss mask.
public struct TrainingBatch: Sendable {
    public var batchSize: Int
    public var sequenceLength: Int
    /// (B*T) input token ids.
    public var inputs: [Int32]
    /// (B*T) the next token of each input.
    public var targets: [Int32]
    /// (B*T) 1 where the target counts towards the loss.
    public var mask: [Float]
    /// State passing (`TrainingOptions.statePassing`): whether each row continues the text of
    /// the same row of the same micro-batch of the previous step, so the Mamba2 states carried
    /// from there apply. false (every ordinary batch): the rows start from zero states.
    public var continuesStreams: Bool

    public init(
        batchSize: Int, sequenceLength: Int, inputs: [Int32], targets: [Int32], mask: [Float],
        continuesStreams: Bool = false
    ) {
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.inputs = inputs
        self.targets = targets
        self.mask = mask
        self.continuesStreams = continuesStreams
    }
}

/// A resumable stream of training batches.
public protocol BatchSource: AnyObject {
    /// The next batch; advances the stream.
    func nextBatch() throws -> TrainingBatch
    /// The stream position, restorable with `restoreState`.
    func saveState() throws -> Data
    /// Continues the stream from a saved position.
    func restoreState(_ state: Data) throws
}
