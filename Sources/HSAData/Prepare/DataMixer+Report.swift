extension DataMixer.Summary {
    /// What `hsa data mix` prints about a mixture written to `output`: one line per source
    /// (tokens, segments, drills, passes, samples left out), then the total.
    public func reportLines(output: String) -> [String] {
        sources.map { source in
            let passes = "\(source.passes) pass\(source.passes == 1 ? "" : "es")"
            let tooLong = source.tooLongSamples ?? 0
            return "\(source.directory): \(source.writtenTokens) tokens in \(source.segments) "
                + "segments, \(source.drills) copy drills (\(source.lossTokens) with loss; "
                + "\(passes) over \(source.availableTokens))"
                + (tooLong > 0 ? "; \(tooLong) samples longer than a segment left out" : "")
        } + ["wrote \(tokens) tokens in \(shards.count) shards to \(output)"]
    }
}
