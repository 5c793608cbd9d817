import ArgumentParser
import Foundation
import HSA

/// `hsa memory build|append`: documents read once into a directory that `hsa ask` answers from
/// without reading them again (docs/MEMORY.md).
struct MemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Read documents once into a document memory that hsa ask answers from.",
        subcommands: [MemoryBuild.self, MemoryAppend.self])
}

/// Options `memory build` and `memory append` share.
struct DocumentReadingOptions: ParsableArguments {
    @Option(help: "Bytes read (and tokens prefilled) per block.")
    var block: Int = 1 << 16

    func validate() throws {
        guard block > 0 else { throw ValidationError("--block must be > 0") }
    }

    /// Rows the session runs at once: on the CPU blocks above 4096 rows only cost scratch
    /// memory (as in `hsa complete`).
    var maxBlock: Int { min(block, 4096) }

    /// Reads `files` into `writer` with a progress bar on a terminal, commits, and prints one
    /// line about the memory.
    func read(
        _ files: [String], into writer: DocumentMemoryWriter, tokenizer: any Tokenizer
    ) throws {
        let urls = files.map { URL(fileURLWithPath: $0) }
        let bytes = files.compactMap {
            (try? FileManager.default.attributesOfItem(atPath: $0))?[.size] as? NSNumber
        }.reduce(0) { $0 + $1.intValue }
        let first = writer.session.position
        // Bytes bound the tokens (exact for byte-level models): the bar may end short of full.
        let bar = ProgressBar(total: first + bytes + 1, enabled: Terminal.isInteractive)
        let start = Date()
        func rate(_ position: Int) -> String {
            let seconds = max(Date().timeIntervalSince(start), 1e-9)
            return String(format: "%.0f tok/s", Double(position - first) / seconds)
        }
        try writer.read(documents: urls, tokenizer: tokenizer, blockBytes: block) { position in
            bar.update(completed: position, text: rate(position))
        }
        let manifest = try writer.commit()
        bar.finish(text: rate(writer.session.position))
        Terminal.printLine(
            manifest.reportLine(
                directory: writer.directory, readTokens: manifest.tokens - first,
                seconds: Date().timeIntervalSince(start)))
    }
}
