extension DataManifest {
    /// What `hsa data prepare` prints about shards written to `output`: documents, tokens per
    /// split and shard count, in one line of key=value pairs.
    public func reportLine(output: String) -> String {
        "documents=\(documents.count) train_tokens=\(trainTokens) "
            + "val_tokens=\(validationTokens) shards=\(shards.count) out=\(output)"
    }
}
