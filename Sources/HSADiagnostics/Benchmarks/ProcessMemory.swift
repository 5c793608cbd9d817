import Foundation

// Memory readings of this process for benchmark records (Linux /proc; 0 elsewhere).

/// Peak resident set size of this process (VmHWM), in bytes.
func peakResidentBytes() -> Int { statusKilobytes("VmHWM") * 1024 }

/// A `kB` field of /proc/self/status (e.g. RssAnon), 0 where missing.
func statusKilobytes(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
        return 0
    }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    }
    return 0
}

/// Resets the kernel's peak-RSS counter (VmHWM) so the next reading covers only what follows;
/// a no-op where /proc/self/clear_refs is missing.
func resetPeakResident() {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
    handle.write(Data("5".utf8))
    try? handle.close()
}
