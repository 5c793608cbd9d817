import Foundation
import HSACore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The rendezvous of one host: rank 0 asks NCCL for a unique id and writes it (hex, atomically:
// temp file + rename) to the file the launcher named; the other ranks poll for that file.

/// The 128 bytes that identify one NCCL communicator to all its ranks.
public struct NCCLUniqueID: Sendable, Equatable {
    /// (128) the id's bytes.
    public var bytes: [UInt8]

    /// Wraps 128 bytes.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == NCCLAPI.uniqueIdBytes else {
            throw NCCLError.uniqueId(
                "expected \(NCCLAPI.uniqueIdBytes) bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A fresh id from `ncclGetUniqueId` (rank 0 only; it also starts NCCL's bootstrap).
    public static func generate(_ nccl: NCCLLibrary) throws -> NCCLUniqueID {
        var bytes = [UInt8](repeating: 0, count: NCCLAPI.uniqueIdBytes)
        let result = bytes.withUnsafeMutableBytes { raw -> NCCLResult in
            guard let base = raw.baseAddress else { return 4 }
            return nccl.api.ncclGetUniqueId(base)
        }
        guard result == 0 else {
            throw NCCLError.call(nccl.api.message(result, "ncclGetUniqueId"))
        }
        return try NCCLUniqueID(bytes: bytes)
    }

    /// Lower-case hex, 256 characters.
    public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Parses `hex` (whitespace around it is ignored).
    public init(hex text: String) throws {
        let hex = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard hex.count == 2 * NCCLAPI.uniqueIdBytes else {
            throw NCCLError.uniqueId(
                "expected \(2 * NCCLAPI.uniqueIdBytes) hex digits, got \(hex.count)")
        }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: hex.count, by: 2) {
            guard let byte = UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16)
            else { throw NCCLError.uniqueId("not hex: \(text.prefix(16))...") }
            bytes.append(byte)
        }
        try self.init(bytes: bytes)
    }

    /// Writes the id to `url` atomically (readers never see a partial file).
    public func write(to url: URL) throws {
        try AtomicFile.write(Data(hex.utf8), to: url)
    }

    /// Waits for rank 0's id file at `url`.
    /// - Parameters:
    ///   - timeout: seconds to wait before throwing.
    ///   - launcherPID: stop waiting when the parent process is no longer this one.
    public static func wait(for url: URL, timeout: TimeInterval, launcherPID: Int32?) throws
        -> NCCLUniqueID
    {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOf: url, encoding: .utf8), !text.isEmpty {
                return try NCCLUniqueID(hex: text)
            }
            if let launcherPID, getppid() != launcherPID {
                throw NCCLError.uniqueId("the launcher exited before rank 0 published the id")
            }
            usleep(20_000)
        }
        throw NCCLError.uniqueId(
            "rank 0 did not write \(url.path) within \(Int(timeout)) s; hint: did rank 0 fail "
                + "to start? (its output comes first)")
    }

    /// The id as the C struct `ncclCommInitRank` takes by value.
    var byValue: NCCLUniqueIdByValue {
        var carrier = Self.zeroCarrier()
        withUnsafeMutableBytes(of: &carrier) { raw in
            raw.copyBytes(from: bytes.prefix(raw.count))
        }
        return carrier
    }

    private static func zeroCarrier() -> NCCLUniqueIdByValue {
        #if os(Linux)
            return sigset_t()
        #else
            return (0, 0)
        #endif
    }
}
