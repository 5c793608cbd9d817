import Foundation

/// An exclusive lock on an output directory, so two processes never write into the same one
/// (two `hsa eval` into one `--out` would each score every pending sample; two trainers
/// would overwrite each other's checkpoints).
///
/// `flock(2)` on `DIRECTORY/.lock`: the kernel drops the lock when the process exits, a
/// crash included, so a stale lock file never blocks a later run. The holder's process id is
/// written into the file for the message a second process gets.
public final class DirectoryLock {
    /// The lock file.
    public let url: URL
    private var descriptor: Int32

    /// The lock file's name inside the directory.
    public static let fileName = ".lock"

    /// Takes the lock on `directory` (which must exist), or throws at once when another
    /// process holds it.
    /// - Throws: ``DirectoryLockError``.
    public init(directory: URL) throws {
        url = directory.appendingPathComponent(Self.fileName)
        // O_NOFOLLOW: a link planted as .lock must not make us truncate another file.
        descriptor = open(url.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DirectoryLockError.cannotOpen(
                path: url.path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = try? String(contentsOf: url, encoding: .utf8)
            close(descriptor)
            throw DirectoryLockError.held(
                directory: directory.path,
                holder: holder?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
    }

    deinit { release() }

    /// Gives the lock up (also done when the value is freed or the process ends).
    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)  // closing the descriptor drops the flock
        descriptor = -1
    }
}

/// Why a ``DirectoryLock`` could not be taken.
public enum DirectoryLockError: Error, CustomStringConvertible, Sendable {
    /// Another process holds the lock (`holder`: its process id as it wrote it, may be empty).
    case held(directory: String, holder: String)
    /// The lock file could not be opened or created.
    case cannotOpen(path: String, reason: String)

    public var description: String {
        switch self {
        case .held(let directory, let holder):
            let who = holder.isEmpty ? "another process" : "process \(holder)"
            return "\(directory): \(who) is writing into this directory; hint: wait for it to "
                + "finish or give another --out"
        case .cannotOpen(let path, let reason):
            return "\(path): cannot open the lock file (\(reason))"
        }
    }
}
