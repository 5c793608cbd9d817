extension SynthMixture.Manifest {
    /// What `hsa data synth` and `hsa data tasks` print about samples written to `output`.
    public func reportLine(output: String) -> String {
        "wrote \(samples) samples, \(tokens) tokens (\(answerTokens) answer tokens) in "
            + "\(shards.count) shards to \(output)"
    }
}
