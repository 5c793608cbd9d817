import HSAData
import HSAInference
import HSAModel

/// What `hsa bpb` measures: every document read once by `PositionLoss` (bits per byte at each
/// position) and, given repeat distances, by the `RepeatProbe`.
public struct BitsPerByteStudy {
    /// The model measured.
    public var model: LanguageModel
    /// The model's tokenizer (BOS starts every document).
    public var tokenizer: any Tokenizer
    /// Positions in tokens, each scored over `window` tokens.
    public var positions: [Int]
    /// Tokens scored at each position; also the repeat probe's passage.
    public var window: Int
    /// Repeat-probe distances in tokens (none: no probe).
    public var repeatDistances: [Int]

    /// A study of `model` at `positions`, with the repeat probe at `repeatDistances`.
    public init(
        model: LanguageModel, tokenizer: any Tokenizer, positions: [Int], window: Int,
        repeatDistances: [Int]
    ) {
        self.model = model
        self.tokenizer = tokenizer
        self.positions = positions
        self.window = window
        self.repeatDistances = repeatDistances
    }

    /// Measures `documents` (name, text) in order, handing `progress` one line per document
    /// (its tokens and the positions it reached); `modelName` names the model in the reports.
    /// - Returns: the position report, and the repeat-probe report when distances were given.
    public func measure(
        documents: [(name: String, text: String)], modelName: String,
        progress: (String) -> Void
    ) throws -> (positions: PositionLossReport, repeats: RepeatProbeReport?) {
        var perDocument: [String: [PositionLoss.Window]] = [:]
        var repeats: [String: [RepeatProbe.Reading]] = [:]
        for (name, text) in documents {
            let tokens = [tokenizer.bos] + tokenizer.encode(text)
            let windows = try PositionLoss.measure(
                session: StreamingSession(model: model), tokens: tokens, positions: positions,
                window: window)
            perDocument[name] = windows
            progress("\(name): \(tokens.count) tokens, \(windows.count) positions")
            if !repeatDistances.isEmpty {
                repeats[name] = try RepeatProbe.measure(
                    text: Array(tokens.dropFirst()), bos: tokenizer.bos, passage: window,
                    distances: repeatDistances, makeSession: { try StreamingSession(model: model) })
            }
        }
        let report = PositionLossReport(
            model: modelName, window: window, positions: positions, documents: perDocument)
        let repeatReport =
            repeatDistances.isEmpty ? nil : RepeatProbeReport(model: modelName, documents: repeats)
        return (report, repeatReport)
    }
}
