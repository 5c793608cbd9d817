import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Plain console output that is never left sitting in a buffer.
///
/// `print` to a pipe is block-buffered, so a training run piped into `tee` would show nothing
/// until it exits (DESIGN.md §5b); every line here is flushed as soon as it is written.
public enum Terminal {
    /// True when standard error is a terminal, i.e. when `\r` progress bars make sense.
    public static var isInteractive: Bool { isatty(STDERR_FILENO) != 0 }

    /// Writes `line` and a newline to standard output, then flushes it.
    public static func printLine(_ line: String) {
        print(line)
        // fflush(nil) flushes every stream; naming `stdout` is not concurrency-safe in Swift 6.
        fflush(nil)
    }

    /// Writes `text` to standard output without a newline, then flushes it (streamed tokens).
    public static func writeOutput(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }

    /// Writes `line` and a newline to standard error (unbuffered).
    public static func printError(_ line: String) {
        writeError(line + "\n")
    }

    /// Writes `line` to standard output like `printLine`; on a terminal it first erases the
    /// progress bar drawn on standard error, which the bar's next update redraws below the line.
    public static func printAboveProgress(_ line: String) {
        if isInteractive { writeError("\r\u{1B}[K") }
        printLine(line)
    }

    /// Writes `text` to standard error as is (no newline; used for `\r` redraws).
    public static func writeError(_ text: String) {
        fflush(nil)  // keep stdout lines ahead of the stderr text that follows them
        FileHandle.standardError.write(Data(text.utf8))
    }
}
