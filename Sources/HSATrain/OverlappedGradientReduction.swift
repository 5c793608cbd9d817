import Foundation
import HSACore

// Gradient all-reduce overlapped with the backward pass. The model reports arena ranges whose
// gradients are final (`LanguageModel.backward(_:lossScale:gradientsFinal:)`); each bucket of
// the usual split (`GradientBuckets.ranges`) starts its all-reduce the moment its last element
// is reported. Same buckets, same collectives, same sums as reducing after the backward pass:
// only the moment they start changes, so the result is bit-identical.

// MARK: - Overlapped reduction

/// Starts each gradient bucket's all-reduce as soon as all its elements are final, then waits
/// for all of them in `finish`. Use one per optimizer step, on the last micro-batch.
///
/// Every rank must report the same ranges in the same order (the model's backward does), so
/// the buckets start in the same order everywhere, as collectives must.
public final class OverlappedGradientReduction {
    /// The buckets, in arena order (`GradientBuckets.ranges`).
    public let buckets: [Range<Int>]
    /// Indices into `buckets`, in the order their all-reduces were started.
    public private(set) var startedBuckets: [Int] = []
    private let reducer: any GradientReducer
    private let values: UnsafeMutablePointer<Float>
    /// Per bucket: elements not reported final yet.
    private var pending: [Int]
    /// Disjoint, sorted ranges already reported (so a range reported twice counts once).
    private var finalRanges: [Range<Int>] = []
    /// The first error of a collective started from the backward callback (rethrown by
    /// `finish`; no further bucket starts after it).
    private var failure: (any Error)?

    /// Prepares the reduction of `count` Floats at `values`; nothing starts yet.
    /// - Parameters:
    ///   - reducer: the data-parallel group.
    ///   - values: (count) the gradient arena; on a GPU backend a device (managed) address.
    ///   - count: arena elements, the same on every rank.
    ///   - bucketElements: largest bucket in Floats (default 25 MB).
    public init(
        reducer: any GradientReducer, values: UnsafeMutablePointer<Float>, count: Int,
        bucketElements: Int = GradientBuckets.defaultElements
    ) {
        self.reducer = reducer
        self.values = values
        buckets = GradientBuckets.ranges(count: count, bucketElements: bucketElements)
        pending = buckets.map(\.count)
    }

    /// Marks `range` final and starts the all-reduce of every bucket it completes (highest
    /// first: backward finishes the arena from its end). The signature of the model's
    /// `gradientsFinal` callback, which cannot throw: an error is kept for `finish`.
    public func gradientsFinal(_ range: Range<Int>) {
        guard failure == nil else { return }
        do { try markFinal(range) } catch { failure = error }
    }

    /// Marks the whole arena final (starting the buckets nobody completed, highest first),
    /// then waits for every bucket's all-reduce.
    /// - Throws: the first error of a started collective, or `waitForReductions`'s.
    public func finish() throws {
        if let failure { throw failure }
        try markFinal(0..<(buckets.last?.upperBound ?? 0))
        try reducer.waitForReductions()
    }

    // MARK: - Bookkeeping

    private func markFinal(_ range: Range<Int>) throws {
        let end = buckets.last?.upperBound ?? 0
        let clamped = range.clamped(to: 0..<end)
        var completed: [Int] = []
        for piece in unreportedPieces(of: clamped) {
            for index in bucketIndices(overlapping: piece) {
                pending[index] -= buckets[index].clamped(to: piece).count
                if pending[index] == 0 { completed.append(index) }
            }
        }
        for index in completed.sorted(by: >) {
            startedBuckets.append(index)
            try reducer.allReduceSum(
                values + buckets[index].lowerBound, count: buckets[index].count)
        }
    }

    /// The parts of `range` not reported before; records them as reported.
    private func unreportedPieces(of range: Range<Int>) -> [Range<Int>] {
        guard !range.isEmpty else { return [] }
        var pieces: [Range<Int>] = []
        var cursor = range.lowerBound
        for done in finalRanges where done.upperBound > cursor && done.lowerBound < range.upperBound
        {
            if done.lowerBound > cursor { pieces.append(cursor..<done.lowerBound) }
            cursor = max(cursor, done.upperBound)
        }
        if cursor < range.upperBound { pieces.append(cursor..<range.upperBound) }
        // Merge into the sorted, disjoint list (a few dozen ranges per step).
        var merged: [Range<Int>] = []
        for next in (finalRanges + pieces).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, last.upperBound >= next.lowerBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, next.upperBound)
            } else {
                merged.append(next)
            }
        }
        finalRanges = merged
        return pieces
    }

    /// Buckets that share elements with `range` (buckets are equal-sized but the last).
    private func bucketIndices(overlapping range: Range<Int>) -> Range<Int> {
        guard let size = buckets.first?.count, size > 0, !range.isEmpty else { return 0..<0 }
        let first = range.lowerBound / size
        let last = min(buckets.count - 1, (range.upperBound - 1) / size)
        return first..<(last + 1)
    }
}

// MARK: - Switch

/// The `HSA_OVERLAP_REDUCE` switch (A/B measurements): `0` reduces after the backward pass.
public enum GradientOverlap {
    /// The environment variable; any value but `0` (or unset) keeps the overlap on.
    public static let environmentKey = HSAEnvironment.overlapReduce.rawValue

    /// Whether `environment` leaves the overlap on.
    public static func isEnabled(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        environment[environmentKey]?.trimmingCharacters(in: .whitespaces) != "0"
    }
}
