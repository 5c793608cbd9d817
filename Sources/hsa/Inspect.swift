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
            let groups = layout.componentCounts
            let width = groups.map(\.component.count).max() ?? 10
            for (name, count) in groups {
                Terminal.printLine(
                    name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                        + formatCount(count))
            }
            Terminal.printLine(
                "total".padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + formatCount(layout.totalCount))
            if tensors {
                for spec in layout.specs {
                    Terminal.printLine("\(spec.name) \(spec.shape)")
                }
            }
        }

        func formatCount(_ count: Int) -> String {
            count >= 1_000_000
                ? String(format: "%.2fM", Double(count) / 1e6)
                : String(format: "%.1fK", Double(count) / 1e3)
        }
    }
}
