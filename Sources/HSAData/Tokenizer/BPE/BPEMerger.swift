/// Applies ranked merges to the byte ids of one pre-tokenized piece, the way the `tokenizers`
/// BPE model does: repeatedly merge the adjacent pair of lowest rank (leftmost first), with a
/// heap over the pairs so a long piece costs O(n log n), not O(n²).
struct BPEMerger: Sendable {
    /// Rank and result id of each mergeable pair, keyed by ``pairKey(_:_:)``.
    let merges: [UInt64: (rank: Int32, result: Int32)]

    /// The key of the ordered pair (`left`, `right`).
    static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// The ids `symbols` become once no adjacent pair has a merge.
    func merge(_ symbols: [Int32]) -> [Int32] {
        let count = symbols.count
        guard count > 1 else { return symbols }
        var ids = symbols
        var next = Array(1...count)
        var previous = Array(-1..<(count - 1))
        // Min-heap of (rank, position): a candidate merge of the symbol at `position` with the
        // one after it; stale entries are skipped when popped.
        var heap = MinHeap()
        for position in 0..<(count - 1) {
            if let merge = merges[Self.pairKey(ids[position], ids[position + 1])] {
                heap.push(rank: merge.rank, position: Int32(position))
            }
        }
        while let top = heap.pop() {
            let position = Int(top.position)
            let right = next[position]
            guard ids[position] >= 0, right < count,
                let merge = merges[Self.pairKey(ids[position], ids[right])],
                merge.rank == top.rank
            else { continue }
            ids[position] = merge.result
            ids[right] = -1
            let after = next[right]
            next[position] = after
            if after < count { previous[after] = position }
            let before = previous[position]
            if before >= 0, let merge = merges[Self.pairKey(ids[before], ids[position])] {
                heap.push(rank: merge.rank, position: Int32(before))
            }
            if after < count, let merge = merges[Self.pairKey(ids[position], ids[after])] {
                heap.push(rank: merge.rank, position: Int32(position))
            }
        }
        return ids.filter { $0 >= 0 }
    }

    /// A binary min-heap of merge candidates ordered by rank, then position.
    private struct MinHeap {
        private var items: [(rank: Int32, position: Int32)] = []

        mutating func push(rank: Int32, position: Int32) {
            items.append((rank, position))
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.less(items[child], items[parent]) else { break }
                items.swapAt(child, parent)
                child = parent
            }
        }

        mutating func pop() -> (rank: Int32, position: Int32)? {
            guard let last = items.popLast() else { return nil }
            guard !items.isEmpty else { return last }
            let top = items[0]
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < items.count else { break }
                var smallest = left
                if left + 1 < items.count, Self.less(items[left + 1], items[left]) {
                    smallest = left + 1
                }
                guard Self.less(items[smallest], items[parent]) else { break }
                items.swapAt(smallest, parent)
                parent = smallest
            }
            return top
        }

        private static func less(
            _ lhs: (rank: Int32, position: Int32), _ rhs: (rank: Int32, position: Int32)
        ) -> Bool {
            lhs.rank != rhs.rank ? lhs.rank < rhs.rank : lhs.position < rhs.position
        }
    }
}
