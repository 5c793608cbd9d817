/// The trainer's working state: every distinct piece as its current ids with its count, the
/// live count of every adjacent pair, which pieces hold each pair, and a heap to find the
/// most frequent pair.
struct BPEMergeState {
    /// A pair of adjacent ids.
    struct Pair {
        var left: Int32
        var right: Int32
    }

    private var words: [[Int32]] = []
    private var weights: [Int] = []
    private var pairCounts: [UInt64: Int] = [:]
    private var pairWords: [UInt64: [Int32]] = [:]
    private var heap = BPEPairHeap()

    /// The state before any merge: each piece as its bytes.
    init(pieces: [[UInt8]: Int]) {
        words.reserveCapacity(pieces.count)
        weights.reserveCapacity(pieces.count)
        for (bytes, count) in pieces {
            words.append(bytes.map { Int32($0) })
            weights.append(count)
        }
        for index in words.indices where words[index].count > 1 {
            let word = words[index]
            for position in 0..<(word.count - 1) {
                let key = BPEMerger.pairKey(word[position], word[position + 1])
                pairCounts[key, default: 0] += weights[index]
                note(Int32(index), holds: key)
            }
        }
        for (key, count) in pairCounts { heap.push(count: count, key: key) }
    }

    /// The most frequent pair (the smaller key on ties), or nil when none occurs
    /// `minimumCount` times.
    mutating func nextPair(minimumCount: Int) -> Pair? {
        while let top = heap.pop() {
            let live = pairCounts[top.key] ?? 0
            guard live == top.count else {
                // Stale: the count dropped since this entry was pushed.
                if live > 0 { heap.push(count: live, key: top.key) }
                continue
            }
            guard live >= minimumCount else { return nil }
            return Pair(
                left: Int32(truncatingIfNeeded: top.key >> 32),
                right: Int32(truncatingIfNeeded: top.key))
        }
        return nil
    }

    /// Replaces `pair` by `result` in every piece holding it and updates the pair counts.
    mutating func merge(_ pair: Pair, into result: Int32) {
        let mergedKey = BPEMerger.pairKey(pair.left, pair.right)
        var created: Set<UInt64> = []
        for index in pairWords.removeValue(forKey: mergedKey) ?? [] {
            let old = words[Int(index)]
            let new = Self.replace(pair, with: result, in: old)
            guard new.count < old.count else { continue }
            let weight = weights[Int(index)]
            for position in 0..<(old.count - 1) {
                pairCounts[BPEMerger.pairKey(old[position], old[position + 1])]! -= weight
            }
            if new.count > 1 {
                for position in 0..<(new.count - 1) {
                    let key = BPEMerger.pairKey(new[position], new[position + 1])
                    pairCounts[key, default: 0] += weight
                    // Only pairs with the new id are new; the others only lost counts.
                    if new[position] == result || new[position + 1] == result {
                        created.insert(key)
                        note(index, holds: key)
                    }
                }
            }
            words[Int(index)] = new
        }
        pairCounts[mergedKey] = nil
        for key in created { heap.push(count: pairCounts[key] ?? 0, key: key) }
    }

    /// Records that piece `index` holds the pair `key` (once per piece: pieces are processed
    /// one at a time, so a repeat is always the last entry).
    private mutating func note(_ index: Int32, holds key: UInt64) {
        if pairWords[key]?.last == index { return }
        pairWords[key, default: []].append(index)
    }

    /// `word` with each occurrence of `pair`, left to right, replaced by `result`.
    private static func replace(_ pair: Pair, with result: Int32, in word: [Int32]) -> [Int32] {
        var output: [Int32] = []
        output.reserveCapacity(word.count)
        var position = 0
        while position < word.count {
            if position + 1 < word.count, word[position] == pair.left,
                word[position + 1] == pair.right
            {
                output.append(result)
                position += 2
            } else {
                output.append(word[position])
                position += 1
            }
        }
        return output
    }
}
