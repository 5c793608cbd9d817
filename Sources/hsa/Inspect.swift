import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model's config and its parameter counts per component.",
            discussion: "Give a checkpoint directory with --model, or a preset / config flags.")

        @Option(help: "Checkpoint directory.")
        var model: String?
        @OptionGroup var config: ModelOptions
        @Flag(help: "Also list every tensor with its shape.")
        var tensors = false

        func run() throws {
            let resolved: ModelConfig
            if let model {
                resolved = try ModelConfig.load(
                    from: URL(fileURLWithPath: model).appendingPathComponent("config.json"))
            } else {
                resolved = try config.resolve()
            }
            let layout = ParameterLayout(config: resolved)
            Terminal.printLine(String(decoding: try resolved.encoded(), as: UTF8.self))
            layout.componentTable.forEach(Terminal.printLine)
            if tensors { layout.tensorLines.forEach(Terminal.printLine) }
        }
    }
}
