import Foundation
import HSACore

/// Cuts a run's `log.jsonl` back to the checkpoint a run resumes from, so the steps after it,
/// which the resumed run trains (and logs) again, are not in the log twice.
enum TrainingLogTruncation {
    /// Rewrites `url` atomically, keeping only the lines whose `step` is at most `step` (and
    /// lines without one). A line that is not a JSON object, typically a last line cut short
    /// by a crash, is dropped too: appending after it would glue the next entry onto it.
    /// - Returns: a one-line warning when damaged lines were dropped, else nil.
    static func truncate(_ url: URL, toStep step: Int) throws -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        var kept = Data()
        var damaged = 0
        var changed = data.last.map { $0 != UInt8(ascii: "\n") } ?? false
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard
                let row = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            else {
                damaged += 1
                changed = true
                continue
            }
            if let rowStep = (row["step"] as? NSNumber)?.intValue, rowStep > step {
                changed = true
                continue
            }
            kept.append(contentsOf: line)
            kept.append(UInt8(ascii: "\n"))
        }
        if changed { try AtomicFile.write(kept, to: url) }
        guard damaged > 0 else { return nil }
        return "warning: \(url.path): dropped \(damaged) damaged line(s) (a write cut short by "
            + "a crash?)"
    }
}
