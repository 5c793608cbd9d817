import Foundation
import HSAData

extension StreamingSession {
    /// Reads `prompt` in blocks of `blockBytes` bytes, tokenizing and prefilling each as it
    /// comes (memory for one block, at any prompt length), then the tokens the encoder held
    /// back. BOS comes first. `afterBlock` gets the bytes read so far after each block.
    /// - Parameter tokenizer: one `makeStreamingEncoder(for:addBOS:)` knows.
    /// - Throws: ``InferenceError/promptUnreadable(path:)``, and
    ///   ``InferenceError/promptTooLong(prompt:limit:derived:)`` before the key/value memory
    ///   grows past `limit` (a byte-level file longer than the limit before any work).
    public func prefill(
        _ prompt: PromptFile, tokenizer: any Tokenizer, blockBytes: Int, limit: PromptTokenLimit,
        afterBlock: (_ bytesRead: Int) -> Void = { _ in }
    ) throws {
        let handle: FileHandle
        if prompt.isStandardInput {
            handle = FileHandle.standardInput
        } else {
            guard let file = FileHandle(forReadingAtPath: prompt.path) else {
                throw InferenceError.promptUnreadable(path: prompt.path)
            }
            handle = file
        }
        defer { if !prompt.isStandardInput { try? handle.close() } }
        // Byte tokens: a file's size is its token count, refused before any work. BPE tokens
        // are fewer than bytes, so a larger file may still fit: checked as it is read.
        if tokenizer is ByteTokenizer, let bytes = prompt.byteCount, bytes + 1 > limit.tokens {
            throw limit.exceeded(by: prompt)
        }
        guard var encoder = makeStreamingEncoder(for: tokenizer) else {
            preconditionFailure("prefill needs a tokenizer that encodes streamed text")
        }
        var bytesRead = 0
        while true {
            let data = handle.readData(ofLength: blockBytes)
            if data.isEmpty { break }
            bytesRead += data.count
            let tokens = encoder.encode(data)
            // Checked before the block is prefilled: the store never grows past the limit.
            guard position + tokens.count <= limit.tokens else { throw limit.exceeded(by: prompt) }
            try prefill(tokens: tokens)
            afterBlock(bytesRead)
        }
        let rest = encoder.finish(addEOS: false)
        guard position + rest.count <= limit.tokens else { throw limit.exceeded(by: prompt) }
        try prefill(tokens: rest)
    }
}
