import Foundation
import HSACore
import HSAReport

/// What `hsa bpb` writes: bits per byte at each position for every document, and their mean
/// over the documents long enough to reach that position.
public struct PositionLossReport: Encodable {
    /// The model directory, as given.
    public var model: String
    /// Tokens scored at each position.
    public var window: Int
    /// Per position (ascending): the mean over the documents that reach it.
    public var mean: [PositionLoss.Window]
    /// Per document name: its windows.
    public var documents: [String: [PositionLoss.Window]]

    /// Averages `documents` at each of `positions`; a position no document reaches is left out.
    public init(
        model: String, window: Int, positions: [Int], documents: [String: [PositionLoss.Window]]
    ) {
        self.model = model
        self.window = window
        self.documents = documents
        mean = positions.compactMap { position -> PositionLoss.Window? in
            let found = documents.values.compactMap { $0.first { $0.position == position } }
            guard !found.isEmpty else { return nil }
            let bits = found.map(\.bitsPerByte).reduce(0, +) / Double(found.count)
            return .init(position: position, tokens: window * found.count, bitsPerByte: bits)
        }
    }

    /// The mean per position as a table: a header line, then one line per position.
    public var tableLines: [String] {
        ["position  tokens  bits/byte"]
            + mean.map {
                String(format: "%8d  %6d  %.4f", $0.position, $0.tokens, $0.bitsPerByte)
            }
    }

    /// Writes bpb.json (this report) and bpb.svg (the mean against position) into `directory`,
    /// creating it if needed.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.writeJSON(self, to: directory.appendingPathComponent("bpb.json"))
        try LinePlot(
            title: "Bits per byte by position", xLabel: "position (tokens)",
            yLabel: "bits per byte", xLog: true,
            series: [
                .init(
                    name: URL(fileURLWithPath: model).lastPathComponent,
                    points: mean.map { (x: Double($0.position), y: $0.bitsPerByte) })
            ]
        ).write(to: directory.appendingPathComponent("bpb.svg"))
    }
}
