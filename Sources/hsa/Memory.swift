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
        let seconds = Date().timeIntervalSince(start)
        Terminal.printLine(
            "memory \(writer.directory.path): \(manifest.tokens) tokens (\(manifest.chunks) "
                + "chunks) from \(manifest.documents.count) files, "
                + String(format: "%.1f MB", Double(manifest.binaryBytes) / 1e6)
                + String(
                    format: "; read %d tokens in %.1f s (%.0f tok/s)",
                    manifest.tokens - first, seconds,
                    Double(manifest.tokens - first) / max(seconds, 1e-9)))
    }
}

/// The checkpoint's tokenizer, which must be one that encodes text streamed in blocks (byte
/// or BPE; `complete`, `memory` and `ask` read text that way).
func streamingTokenizer(checkpoint: URL) throws -> any Tokenizer {
    let tokenizer = try TokenizerLoader.load(checkpoint: checkpoint)
    guard makeStreamingEncoder(for: tokenizer) != nil else {
        throw UserError("\(checkpoint.path): its tokenizer cannot encode streamed text")
    }
    return tokenizer
}
