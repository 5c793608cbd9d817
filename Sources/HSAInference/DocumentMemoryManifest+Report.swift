import Foundation

extension DocumentMemoryManifest {
    /// What `hsa memory build` and `append` print about the memory in `directory` once
    /// committed: its tokens, chunks, files and size, then the `readTokens` this write read in
    /// `seconds`.
    public func reportLine(directory: URL, readTokens: Int, seconds: Double) -> String {
        "memory \(directory.path): \(tokens) tokens (\(chunks) chunks) from \(documents.count) "
            + "files, " + String(format: "%.1f MB", Double(binaryBytes) / 1e6)
            + String(
                format: "; read %d tokens in %.1f s (%.0f tok/s)", readTokens, seconds,
                Double(readTokens) / max(seconds, 1e-9))
    }
}
