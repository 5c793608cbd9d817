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
        let study = BitsPerByteStudy(
            model: try LanguageModel.load(from: directory),
            tokenizer: try TokenizerLoader.load(checkpoint: directory), positions: positionList,
            window: window, repeatDistances: distances)
        var texts = try documents.map { String(decoding: try readFile($0), as: UTF8.self) }
        var names = documents
        if concatenate {
            texts = [texts.joined(separator: "\n\n")]
            names = ["concatenated(\(documents.count))"]
        }
        let reports = try study.measure(
            documents: Array(zip(names, texts)), modelName: model, progress: Terminal.printLine)
        reports.positions.tableLines.forEach(Terminal.printLine)
        try reports.positions.write(to: URL(fileURLWithPath: out))
        if let repeats = reports.repeats {
            repeats.tableLines.forEach(Terminal.printLine)
            try repeats.write(to: URL(fileURLWithPath: out))
        }
    }
}
