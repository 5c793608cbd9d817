import HSAModel

/// Everything a `StreamingSession` needs to continue where it stopped, apart from its chunk
/// keys/values (those stay in their `KVStore`): the lower layers' windows, the rows of the
/// incomplete chunk, the kept tail of H and the landmarks. The upper layers' windows are not
/// part of it: a session rebuilds them from the tail when logits are next asked for, as it
/// does after every prefill.
///
/// All values are fp32 rows in host memory, row-major.
public struct StreamingSnapshot: Equatable, Sendable {
    /// Rows of one width for consecutive positions starting at `firstPosition`.
    public struct Rows: Equatable, Sendable {
        /// Absolute position of the first row.
        public var firstPosition: Int
        /// (rows, width) floats.
        public var values: [Float]

        public init(firstPosition: Int, values: [Float]) {
            self.firstPosition = firstPosition
            self.values = values
        }
    }

    /// One lower layer's window: keys (after QK-norm and RoPE) and values of the same
    /// positions, each (rows, NKV*HS).
    public struct Window: Equatable, Sendable {
        /// Absolute position of the first row.
        public var firstPosition: Int
        /// (rows, NKV*HS) keys.
        public var keys: [Float]
        /// (rows, NKV*HS) values.
        public var values: [Float]

        public init(firstPosition: Int, keys: [Float], values: [Float]) {
            self.firstPosition = firstPosition
            self.keys = keys
            self.values = values
        }
    }

    /// Tokens consumed.
    public var position: Int
    /// Per lower layer, its key/value window.
    public var lowerWindows: [Window]
    /// (< S, C) H rows of the incomplete chunk (empty without chunk memory).
    public var pendingChunk: [Float]
    /// The tail of H the upper decoder reads, (·, C).
    public var tail: Rows
    /// (NC, NKV*DR) landmarks of the stored chunks (empty without chunk memory).
    public var landmarks: [Float]

    public init(
        position: Int, lowerWindows: [Window], pendingChunk: [Float], tail: Rows,
        landmarks: [Float]
    ) {
        self.position = position
        self.lowerWindows = lowerWindows
        self.pendingChunk = pendingChunk
        self.tail = tail
        self.landmarks = landmarks
    }

    /// The state of a session that has read nothing yet, for a model of `config`.
    public static func empty(config: ModelConfig) -> StreamingSnapshot {
        StreamingSnapshot(
            position: 0,
            lowerWindows: Array(
                repeating: Window(firstPosition: 0, keys: [], values: []),
                count: config.nLowerLayers),
            pendingChunk: [], tail: Rows(firstPosition: 0, values: []), landmarks: [])
    }
}
