extension SynthMixture.Manifest {
    /// What `hsa data synth` and `hsa data tasks` print about samples written to `output`.
    public func reportLine(output: String) -> String {
        "wrote \(samples) samples, \(tokens) tokens (\(answerTokens) answer tokens) in "
            + "\(shards.count) shards to \(output)"
    }

    /// The line `hsa data synth` and `tasks` add when fewer than the `requested` samples were
    /// written (lengths too short for their task), or nil.
    public func skippedLine(requested: Int) -> String? {
        guard samples < requested else { return nil }
        return "skipped \(requested - samples) samples whose length is too short for their task"
    }
}
