import ArgumentParser
import Foundation
import HSA

@main
struct HSACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hsa",
        abstract: "Train, run and evaluate language models with hierarchical sparse attention.",
        version: "0.1.0",
        subcommands: [
            Train.self, Generate.self, Complete.self, MemoryCommand.self, Ask.self, Eval.self,
            BitsPerByte.self, Compare.self, Inspect.self, Export.self,
            DataCommand.self, TokenizerCommand.self, Bench.self, Doctor.self, Selftest.self,
        ])

    static func main() {
        BLASCoreSelection.upgradeIfNeeded()
        var command: any ParsableCommand
        do { command = try parseAsRoot() } catch {
            let arguments = Array(CommandLine.arguments.dropFirst())
            if let hint = NegativeValueHint.message(replacing: error, arguments: arguments) {
                Terminal.printError("Error: \(hint)")
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            exit(withError: error)
        }
        do {
            // Checked here, not when the first parallel loop reads it: one line, exit 1.
            _ = try Threads.requestedCount()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// An error already explained to the user; exits with status 1 and a one-line message.
struct UserError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
