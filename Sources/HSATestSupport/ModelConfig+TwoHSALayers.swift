import HSACore
import HSAModel

extension ModelConfig {
    /// `tiny` with two HSA layers (upper 0 and 1) and 2 KV heads of 2 query heads each, room
    /// for 512 tokens: the smallest model whose retrieval diagnostics differ per layer and head.
    public static func tinyWithTwoHSALayers(fusion: FusionKind) -> ModelConfig {
        var config = ModelConfig.tiny
        config.nUpperLayers = 2
        config.hsaLayers = [0, 1]
        config.nHeads = 4
        config.nKvHeads = 2
        config.fusion = fusion
        config.maxTrainLen = 512
        return config
    }
}
