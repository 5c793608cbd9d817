import HSA

/// Prints a line to stdout (flushed). On a terminal it first erases the progress bar drawn on
/// stderr, which the next update redraws below the line.
func printAboveProgress(_ line: String) {
    if Terminal.isInteractive { Terminal.writeError("\r\u{1B}[K") }
    Terminal.printLine(line)
}
