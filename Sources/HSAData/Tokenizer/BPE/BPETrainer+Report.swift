import Foundation

extension BPETrainer {
    /// What `hsa tokenizer train` prints once `tokenizer` is learned from `files` files and
    /// written to `output`: the text read, the merges, the vocabulary and the seconds spent
    /// counting and merging, as key=value pairs.
    public func reportLine(
        files: Int, tokenizer: BPETokenizer, countSeconds: Double, mergeSeconds: Double,
        output: URL
    ) -> String {
        "files=\(files) bytes=\(byteCount) pieces=\(distinctPieceCount) "
            + "merges=\(tokenizer.merges.count) vocab=\(tokenizer.vocabularySize) "
            + "count_s=\(String(format: "%.1f", countSeconds)) "
            + "merge_s=\(String(format: "%.1f", mergeSeconds)) out=\(output.path)"
    }
}
