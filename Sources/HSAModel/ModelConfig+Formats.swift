import Foundation

// Which config.json fields every file has, and what a file written before a later field gets
// for it, so checkpoints keep loading after a knob is added.

extension ModelConfig {
    /// The fields of the first config.json format: every config must give each.
    public static let formatOneFields: Set<String> = [
        "vocab_size", "d_model", "n_lower_layers", "n_upper_layers", "hsa_layers", "n_heads",
        "n_kv_heads", "head_dim", "d_ff", "window", "rope_theta", "chunk_size", "encoder_layers",
        "top_k", "landmark", "chunk_kv", "fusion", "retrieval", "residual",
        "separate_retrieval_query", "qk_norm", "attention", "tie_embeddings", "max_train_len",
        "retrieval_dim",
    ]

    /// Fields added after the first format, each with the JSON value that reproduces the
    /// behaviour from before it existed. A new config field goes here (a test checks that
    /// every field is in exactly one of the two lists, and that each default loads).
    public static let addedFieldDefaults: [String: any Sendable] = [
        // Only `attention: landmark` reads these, and no file before them has it.
        "landmark_block": 63,
        "landmark_rope": false,
        // Only `mixer: mamba2` reads the mamba_* sizes, and no file before them has it.
        "mixer": "attention",
        "mamba_state_dim": 64,
        "mamba_head_dim": 32,
        "mamba_expand": 2,
        "mamba_groups": 1,
        "mamba_conv_kernel": 4,
        "mamba_chunk_length": 64,
    ]

    /// `fields` with every added field it lacks set to its default.
    static func withDefaultsForAddedFields(_ fields: [String: Any]) -> [String: Any] {
        var fields = fields
        for (name, value) in addedFieldDefaults where fields[name] == nil { fields[name] = value }
        return fields
    }
}
