import Foundation

/// The resumable position of a ``TokenLaneLoader``, with the lane layout it was saved for, so a
/// run whose lanes differ (batch size, lane groups, sequence length or data) is refused on
/// restore instead of reading other text than its carried states belong to.
public struct LaneState: Codable, Equatable, Sendable {
    /// Lanes in all (B * lane groups).
    public var lanes: Int
    /// Tokens in each lane.
    public var laneLength: Int
    /// T, the segment step.
    public var sequenceLength: Int
    /// Completed passes over the lanes (every lane wrapped this often).
    public var pass: Int
    /// The next batch of this pass: lane group `cursor % groups`, segment `cursor / groups`.
    public var cursor: Int

    /// Creates a state at the start of the lanes.
    public init(lanes: Int, laneLength: Int, sequenceLength: Int, pass: Int = 0, cursor: Int = 0) {
        self.lanes = lanes
        self.laneLength = laneLength
        self.sequenceLength = sequenceLength
        self.pass = pass
        self.cursor = cursor
    }

    enum CodingKeys: String, CodingKey {
        case lanes
        case laneLength = "lane_length"
        case sequenceLength = "seq_len"
        case pass
        case cursor
    }
}
