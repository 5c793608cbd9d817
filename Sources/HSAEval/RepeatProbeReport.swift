import Foundation
import HSACore

/// What `hsa bpb --repeat-distances` writes: every document's repeat-probe readings and their
/// mean per distance over the documents long enough for it.
public struct RepeatProbeReport: Encodable {
    /// The model directory, as given.
    public var model: String
    /// Per distance (ascending): the mean over the documents that reach it.
    public var mean: [RepeatProbe.Reading]
    /// Per document name: its readings.
    public var documents: [String: [RepeatProbe.Reading]]

    /// Averages `documents` at every distance any of them reached.
    public init(model: String, documents: [String: [RepeatProbe.Reading]]) {
        self.model = model
        self.documents = documents
        let byDistance = Dictionary(grouping: documents.values.joined(), by: \.distance)
        mean = byDistance.keys.sorted().map { distance in
            let found = byDistance[distance] ?? []
            let count = Double(found.count)
            return RepeatProbe.Reading(
                distance: distance, tokens: found.map(\.tokens).reduce(0, +),
                firstBitsPerByte: found.map(\.firstBitsPerByte).reduce(0, +) / count,
                repeatBitsPerByte: found.map(\.repeatBitsPerByte).reduce(0, +) / count)
        }
    }

    /// The mean per distance as a table: a header line, then one line per distance.
    public var tableLines: [String] {
        ["repeat probe: distance  first  repeat  (bits/byte, mean)"]
            + mean.map {
                String(
                    format: "%22d  %.4f  %.4f", $0.distance, $0.firstBitsPerByte,
                    $0.repeatBitsPerByte)
            }
    }

    /// Writes repeat.json (this report) into `directory`, creating it if needed.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.writeJSON(self, to: directory.appendingPathComponent("repeat.json"))
    }
}
