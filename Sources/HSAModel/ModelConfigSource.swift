import Foundation

/// Where a model config starts before any field is set on top of it: a config.json, or a
/// preset by name.
public enum ModelConfigSource: Sendable, Equatable {
    /// A config.json file.
    case file(URL)
    /// A preset: tiny, small or paper.
    case preset(String)

    /// The preset a command starts from when given neither a config file nor a preset.
    public static let defaultPreset = "tiny"

    /// The default preset as a source.
    public static let `default` = ModelConfigSource.preset(defaultPreset)

    /// The config this source names.
    /// - Throws: `ConfigError` for an unreadable or invalid file or an unknown preset.
    public func load() throws -> ModelConfig {
        switch self {
        case .file(let url): return try ModelConfig.load(from: url)
        case .preset(let name): return try ModelConfig.preset(named: name)
        }
    }
}
