import Foundation
import HSAData

extension DocumentMemory {
    /// The tokens of a prompt that continues a memory's documents, as `hsa ask` and `hsa-serve`
    /// read it: no BOS (the documents began with one), and the prompt encoded as a text of its
    /// own. Reading the documents settled their last BPE pre-token where they ended, so the
    /// prompt starts a new one: these are the ids of the documents and the prompt joined when
    /// the prompt starts with a new pre-token (a line break, say).
    /// - Parameter tokenizer: the checkpoint's, as `TokenizerLoader.loadStreaming` loads it.
    public static func promptTokens(_ prompt: Data, tokenizer: any Tokenizer) -> [Int32] {
        tokenizer.encode(bytes: prompt)
    }
}
