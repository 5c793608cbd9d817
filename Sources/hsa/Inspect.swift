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
            var groups: [(String, Int)] = []
            for spec in layout.specs {
                let group = componentName(spec.name)
                if let last = groups.last, last.0 == group {
                    groups[groups.count - 1].1 += spec.count
                } else {
                    groups.append((group, spec.count))
                }
            }
            let width = groups.map(\.0.count).max() ?? 10
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

        /// The component a tensor belongs to: `lower.0`, `encoder`, `upper.2.hsa`, `embed`, ...
        func componentName(_ name: String) -> String {
            let parts = name.split(separator: ".")
            switch parts.first {
            case "lower", "upper":
                let base = parts.prefix(2).joined(separator: ".")
                return parts.count > 2 && parts[2] == "hsa" ? base + ".hsa" : base
            case "encoder":
                return "encoder"
            default:
                return String(parts.first ?? "")
            }
        }

        func formatCount(_ count: Int) -> String {
            count >= 1_000_000
                ? String(format: "%.2fM", Double(count) / 1e6)
                : String(format: "%.1fK", Double(count) / 1e3)
        }
    }
}
