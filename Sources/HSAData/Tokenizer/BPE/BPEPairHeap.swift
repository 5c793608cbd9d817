/// A max-heap of (count, pair) for the trainer: the most frequent pair on top, ties going to
/// the smaller pair key so training does not depend on dictionary order. Entries go stale as
/// counts drop; the trainer re-checks the top against the live count (lazy deletion), which
/// is cheaper than updating entries in place.
struct BPEPairHeap {
    private var counts: [Int] = []
    private var keys: [UInt64] = []

    /// Whether no entry is left.
    var isEmpty: Bool { counts.isEmpty }

    /// Adds an entry.
    mutating func push(count: Int, key: UInt64) {
        counts.append(count)
        keys.append(key)
        var child = counts.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard above(child, parent) else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the top entry.
    mutating func pop() -> (count: Int, key: UInt64)? {
        guard !counts.isEmpty else { return nil }
        let top = (counts[0], keys[0])
        let last = counts.count - 1
        swapAt(0, last)
        counts.removeLast()
        keys.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < counts.count else { break }
            var best = left
            if left + 1 < counts.count, above(left + 1, left) { best = left + 1 }
            guard above(best, parent) else { break }
            swapAt(best, parent)
            parent = best
        }
        return top
    }

    private func above(_ lhs: Int, _ rhs: Int) -> Bool {
        counts[lhs] != counts[rhs] ? counts[lhs] > counts[rhs] : keys[lhs] < keys[rhs]
    }

    private mutating func swapAt(_ lhs: Int, _ rhs: Int) {
        counts.swapAt(lhs, rhs)
        keys.swapAt(lhs, rhs)
    }
}
