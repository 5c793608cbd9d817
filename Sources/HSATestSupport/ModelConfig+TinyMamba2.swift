import HSAModel

extension ModelConfig {
    /// `tiny` as a Mamba2 model: two Mamba2 layers, N 8, P 16 (4 heads of E 64), and scan
    /// chunks of `chunkLength` rows, small so that sequences and segments end mid-chunk.
    public static func tinyMamba2(chunkLength: Int = 8) -> ModelConfig {
        var config = ModelConfig.tiny
        config.mixer = .mamba2
        config.mambaStateDim = 8
        config.mambaHeadDim = 16
        config.mambaChunkLength = chunkLength
        return config
    }
}
