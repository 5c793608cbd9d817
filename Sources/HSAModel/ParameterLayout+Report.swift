import Foundation

extension ParameterLayout {
    /// What `hsa inspect` prints: one line per component (`componentCounts`), then the total,
    /// names padded to the longest, counts as `1.23M` or `45.6K`.
    public var componentTable: [String] {
        let groups = componentCounts + [("total", totalCount)]
        let width = componentCounts.map(\.component.count).max() ?? 10
        return groups.map { name, count in
            name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + Self.formatCount(count)
        }
    }

    /// Every tensor as `name [shape]`, in layout order (`hsa inspect --tensors`).
    public var tensorLines: [String] { specs.map { "\($0.name) \($0.shape)" } }

    /// `count` in millions from 1M on, else in thousands.
    static func formatCount(_ count: Int) -> String {
        count >= 1_000_000
            ? String(format: "%.2fM", Double(count) / 1e6)
            : String(format: "%.1fK", Double(count) / 1e3)
    }
}
