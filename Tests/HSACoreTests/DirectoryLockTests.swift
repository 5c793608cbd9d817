import Foundation
import HSACore
import Testing

@Suite struct DirectoryLockTests {
    /// A second lock on the same directory fails at once naming the holder; once released,
    /// the directory can be locked again.
    @Test func aSecondLockIsRefusedUntilTheFirstIsReleased() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try DirectoryLock(directory: directory)
        #expect {
            _ = try DirectoryLock(directory: directory)
        } throws: { error in
            "\(error)".contains("process \(getpid()) is writing into this directory")
        }
        first.release()
        let second = try DirectoryLock(directory: directory)
        second.release()
    }

    @Test func aMissingDirectoryIsAnError() {
        let missing = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)")
        #expect(throws: DirectoryLockError.self) { _ = try DirectoryLock(directory: missing) }
    }
}
