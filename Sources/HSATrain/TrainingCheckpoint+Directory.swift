import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What counts in a run's `checkpoints/` directory: `step-<digits>` directories are
/// checkpoints; `.step-N.tmp-PID` directories are saves in progress, or left behind by a
/// process that died mid-save; anything else (`step-backup`, notes) is ignored.
extension TrainingCheckpoint {
    /// Whether `name` is a checkpoint directory's name: `step-` and digits only.
    public static func isCheckpointName(_ name: String) -> Bool {
        guard name.hasPrefix("step-") else { return false }
        let digits = name.dropFirst("step-".count)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Checkpoint directories under `runDirectory`, oldest first.
    public static func list(runDirectory: URL) -> [URL] {
        let parent = runDirectory.appendingPathComponent("checkpoints")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        // Names are zero-padded (`name(step:)`), but a hand-made `step-7` still sorts by step.
        let steps = names.filter(isCheckpointName).map { (name: $0, step: step(of: $0)) }
        return steps.sorted { ($0.step, $0.name) < ($1.step, $1.name) }.map {
            parent.appendingPathComponent($0.name)
        }
    }

    /// Deletes all but the newest `keep` checkpoints; the newest one always stays.
    ///
    /// `Trainer.saveCheckpoint` prunes only after a save succeeded, and `save` writes only
    /// finite weights, so the newest finite checkpoint is never among the deleted.
    public static func prune(runDirectory: URL, keep: Int) {
        let all = list(runDirectory: runDirectory)
        for url in all.dropLast(max(keep, 1)) { try? FileManager.default.removeItem(at: url) }
    }

    /// Removes the temporary directories `.step-N.tmp-PID` whose writer is gone: its process
    /// is no longer alive, or it is this process, which saves one checkpoint at a time and
    /// calls this before starting a save (a container restarts with the same PID). A temporary
    /// directory of another live process is a concurrent save and stays.
    public static func removeStaleTemporaries(runDirectory: URL) {
        let parent = runDirectory.appendingPathComponent("checkpoints")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        let ownPID = ProcessInfo.processInfo.processIdentifier
        for name in names {
            guard let pid = temporaryWriter(of: name) else { continue }
            if pid == ownPID || !isAlive(pid) {
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
            }
        }
    }

    /// The PID in a temporary checkpoint directory's name `.step-N.tmp-PID`, or nil.
    static func temporaryWriter(of name: String) -> Int32? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
            isCheckpointName(String(name[name.index(after: name.startIndex)..<marker.lowerBound]))
        else { return nil }
        return Int32(name[marker.upperBound...]).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The step of a checkpoint name (`isCheckpointName`); Int.max past Int's range.
    private static func step(of name: String) -> Int {
        Int(name.dropFirst("step-".count)) ?? Int.max
    }

    /// Whether a process `pid` exists (signal 0 checks without sending; EPERM: it exists but
    /// belongs to another user).
    private static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
