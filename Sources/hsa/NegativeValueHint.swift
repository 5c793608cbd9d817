import ArgumentParser

/// ArgumentParser reads `--lr -5` as the option `--lr` followed by a flag `-5`, and reports
/// "Missing value for '--lr <lr>'". This names the real cause and the spelling that works.
enum NegativeValueHint {
    /// For a parse error of `arguments`, the message to report instead, or nil to keep it.
    static func message(replacing error: any Error, arguments: [String]) -> String? {
        guard HSACommand.message(for: error).hasPrefix("Missing value") else { return nil }
        for (option, value) in zip(arguments, arguments.dropFirst())
        where option.hasPrefix("--") && isNegativeNumber(value) {
            return "\(option) \(value): a value starting with '-' reads as an option; "
                + "write \(option)=\(value)"
        }
        return nil
    }

    /// `-5`, `-0.5`, `-1e-3`, `-.5`.
    private static func isNegativeNumber(_ text: String) -> Bool {
        text.hasPrefix("-") && Double(text) != nil
    }
}
