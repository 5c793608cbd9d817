import Foundation

/// The ids of pieces already encoded, shared by the copies of one ``BPETokenizer`` and safe to
/// use from several threads (a lock around a dictionary). Text repeats its words, so most
/// pieces of a long text are found here instead of being merged again. Bounded: once
/// `capacity` pieces are held it is emptied and refills with what comes next.
final class BPEPieceCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[UInt8]: [Int32]] = [:]
    private let capacity: Int

    /// Creates an empty cache holding at most `capacity` pieces.
    init(capacity: Int = 1 << 16) { self.capacity = capacity }

    /// The ids of `piece`, computing and remembering them with `encode` on a miss.
    func ids(of piece: [UInt8], encode: ([UInt8]) -> [Int32]) -> [Int32] {
        lock.lock()
        let cached = entries[piece]
        lock.unlock()
        if let cached { return cached }
        let ids = encode(piece)
        lock.lock()
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[piece] = ids
        lock.unlock()
        return ids
    }
}
