import Foundation
import HSAModel

/// A document memory's state file: the parts of a `StreamingSnapshot` other than the
/// landmarks (those grow with every chunk and have their own file), as fp32 rows laid out as
/// `DocumentMemoryManifest.StateLayout` says. Small: windows and tail of a few thousand rows.
enum MemoryStateFile {
    /// The state file's bytes for `snapshot`, and their layout.
    static func encode(_ snapshot: StreamingSnapshot, config: ModelConfig)
        -> (Data, DocumentMemoryManifest.StateLayout)
    {
        let (kvWidth, c) = (config.nKvHeads * config.headDim, config.dModel)
        var data = Data()
        func append(_ floats: [Float]) { floats.withUnsafeBytes { data.append(contentsOf: $0) } }
        for window in snapshot.lowerWindows {
            append(window.keys)
            append(window.values)
        }
        append(snapshot.pendingChunk)
        append(snapshot.tail.values)
        let layout = DocumentMemoryManifest.StateLayout(
            lowerWindows: snapshot.lowerWindows.map {
                .init(firstPosition: $0.firstPosition, rows: $0.keys.count / kvWidth)
            },
            pendingRows: snapshot.pendingChunk.count / c,
            tail: .init(
                firstPosition: snapshot.tail.firstPosition, rows: snapshot.tail.values.count / c))
        return (data, layout)
    }

    /// The snapshot at `position` whose state is `bytes` (the state file at `path`, laid out as
    /// `layout`), with `landmarks`.
    /// - Throws: `DocumentMemoryError.damaged` when the sizes do not add up to the file.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, path: String, layout: DocumentMemoryManifest.StateLayout,
        position: Int, landmarks: [Float], config: ModelConfig
    ) throws -> StreamingSnapshot {
        let (kvWidth, c) = (config.nKvHeads * config.headDim, config.dModel)
        let rowCounts =
            layout.lowerWindows.map(\.rows) + [layout.pendingRows, layout.tail.rows]
        // Counts beyond the file's bytes are refused before they are multiplied (no overflow).
        guard rowCounts.allSatisfy({ (0...bytes.count).contains($0) }) else {
            throw DocumentMemoryError.damaged(
                file: path, reason: "its layout in memory.json has impossible row counts")
        }
        let neededFloats =
            layout.lowerWindows.reduce(0) { $0 + 2 * $1.rows * kvWidth }
            + (layout.pendingRows + layout.tail.rows) * c
        guard neededFloats * 4 == bytes.count else {
            throw DocumentMemoryError.damaged(
                file: path,
                reason: "holds \(bytes.count) bytes, its layout in memory.json needs "
                    + "\(neededFloats * 4)")
        }
        var offset = 0
        func next(_ count: Int) -> [Float] {
            defer { offset += count * 4 }
            return floats(UnsafeRawBufferPointer(rebasing: bytes[offset...]), count: count)
        }
        let windows = layout.lowerWindows.map { span in
            StreamingSnapshot.Window(
                firstPosition: span.firstPosition, keys: next(span.rows * kvWidth),
                values: next(span.rows * kvWidth))
        }
        let pending = next(layout.pendingRows * c)
        let tail = StreamingSnapshot.Rows(
            firstPosition: layout.tail.firstPosition, values: next(layout.tail.rows * c))
        return StreamingSnapshot(
            position: position, lowerWindows: windows, pendingChunk: pending, tail: tail,
            landmarks: landmarks)
    }

    /// The first `count` fp32 values of `bytes` (copied: no alignment is assumed).
    static func floats(_ bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
        precondition(bytes.count >= 4 * count, "fewer bytes than floats asked for")
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let target = buffer.baseAddress, let source = bytes.baseAddress {
                memcpy(target, source, 4 * count)
            }
            initialized = count
        }
    }
}
