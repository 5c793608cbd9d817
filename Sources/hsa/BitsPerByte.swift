import ArgumentParser
import Foundation
import HSA

/// `hsa bpb`: bits per byte by position in long documents (does the model use distant context?).
struct BitsPerByte: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bpb",
        abstract: "Bits per byte at chosen positions of long documents (streaming, any length).",
        discussion: """
            Each document is streamed once (PositionLoss): prefilled up to each position, the \
            next --window bytes scored one at a time, then on to the next position. Documents \
            shorter than a position's window skip it. Writes bpb.json (per document and the \
            mean per position) and bpb.svg into --out and prints a table. Use held-out text: a \
            document the model trained on measures memory, not context use.

            --repeat-distances adds the repeat probe (RepeatProbe): the first --window bytes \
            of each document, then D bytes of its later text, then the same bytes again; a \
            model that retrieves across D scores the repeat far below the first reading. \
            Written to repeat.json and printed as a table.
            """)

    @Option(help: "Checkpoint directory (config.json + model.safetensors).")
    var model: String
    @Argument(help: "Documents (text files).")
    var documents: [String]
    @Flag(help: "Join the documents (blank line between) into one long document.")
    var concatenate = false
    @Option(help: "Comma-separated positions in tokens (bytes), e.g. 1K,4K,16K,64K,256K.")
    var positions: String = "1K,4K,16K,64K,256K"
    @Option(help: "Tokens scored at each position.")
    var window: Int = 512
    @Option(help: "Comma-separated repeat-probe distances in tokens, e.g. 1K,16K,256K (none).")
    var repeatDistances: String?
    @Option(help: "Output directory.")
    var out: String = "runs/bpb"
    @OptionGroup var device: BackendOptions

    func validate() throws {
        guard window > 0 else { throw ValidationError("--window must be > 0") }
        guard !documents.isEmpty else { throw ValidationError("give at least one document") }
    }

    func run() throws {

        try requireOutputDirectory(out, option: "--out")
        try device.install()
        let positionList = try ContextLength.parseList(positions)
        let distances = try repeatDistances.map(ContextLength.parseList) ?? []
        let directory = URL(fileURLWithPath: model)
        let network = try LanguageModel.load(from: directory)
        let tokenizer = try TokenizerLoader.load(checkpoint: directory)
        var texts = try documents.map { String(decoding: try readFile($0), as: UTF8.self) }
        var names = documents
        if concatenate {
            texts = [texts.joined(separator: "\n\n")]
            names = ["concatenated(\(documents.count))"]
        }
        var perDocument: [String: [PositionLoss.Window]] = [:]
        var repeats: [String: [RepeatProbe.Reading]] = [:]
        for (name, text) in zip(names, texts) {
            let tokens = [tokenizer.bos] + tokenizer.encode(text)
            let windows = try PositionLoss.measure(
                session: StreamingSession(model: network), tokens: tokens,
                positions: positionList, window: window)
            perDocument[name] = windows
            Terminal.printLine("\(name): \(tokens.count) tokens, \(windows.count) positions")
            if !distances.isEmpty {
                repeats[name] = try RepeatProbe.measure(
                    text: Array(tokens.dropFirst()), bos: tokenizer.bos, passage: window,
                    distances: distances, makeSession: { try StreamingSession(model: network) })
            }
        }
        let report = PositionLossReport(
            model: model, window: window, positions: positionList, documents: perDocument)
        Terminal.printLine("position  tokens  bits/byte")
        for entry in report.mean {
            Terminal.printLine(
                String(format: "%8d  %6d  %.4f", entry.position, entry.tokens, entry.bitsPerByte))
        }
        try report.write(to: URL(fileURLWithPath: out))
        if !distances.isEmpty {
            let repeatReport = RepeatProbeReport(model: model, documents: repeats)
            Terminal.printLine("repeat probe: distance  first  repeat  (bits/byte, mean)")
            for entry in repeatReport.mean {
                Terminal.printLine(
                    String(
                        format: "%22d  %.4f  %.4f", entry.distance, entry.firstBitsPerByte,
                        entry.repeatBitsPerByte))
            }
            try repeatReport.write(to: URL(fileURLWithPath: out))
        }
    }
}
