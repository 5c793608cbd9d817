import Foundation
import HSACore

extension BPETrainer {
    /// Adds the text files found under `inputs` (as `hsa data prepare` finds them: files named
    /// directly, and .txt/.md/.rst files of directories, recursively, in path order), each
    /// file one document, until `sampleBytes` bytes have been read (the last file is cut at a
    /// line break). Invalid UTF-8 is read as U+FFFD.
    /// - Returns: the number of files read (in part or in full).
    /// - Throws: ``DataPrepareError`` for a missing or unreadable input,
    ///   ``BPETrainerError/noText(inputs:)`` when no text was found.
    @discardableResult
    public mutating func addFiles(_ inputs: [URL], sampleBytes: Int? = nil) throws -> Int {
        let documents = try DocumentCollector.collect(
            inputs: inputs, extensions: ["txt", "md", "rst"])
        var remaining = sampleBytes ?? Int.max
        var files = 0
        for document in documents where remaining > 0 {
            var data: Data
            do {
                data = try Data(contentsOf: document.url)
            } catch {
                throw DataPrepareError.io(path: document.url.path, reason: fileErrorReason(error))
            }
            if data.count > remaining {
                let lastBreak = data.prefix(remaining).lastIndex(of: UInt8(ascii: "\n"))
                let cut = lastBreak.map { $0 + 1 } ?? remaining
                data = data.prefix(cut)
            }
            guard !data.isEmpty else { continue }
            remaining -= data.count
            files += 1
            add(String(decoding: data, as: UTF8.self))
        }
        guard byteCount > 0 else { throw BPETrainerError.noText(inputs: inputs.map(\.path)) }
        return files
    }
}
