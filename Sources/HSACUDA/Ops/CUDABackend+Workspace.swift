// Scratch workspaces of the backward launchers (dense attention, sparse attention v1 and the
// tensor-core path): parts laid out at 256-byte-aligned byte offsets, handed out as views.

extension CUDABackend {
    /// `bytes` rounded up to the next multiple of 256 (the start of a workspace part).
    static func workspaceAligned(_ bytes: Int) -> Int { (bytes + 255) / 256 * 256 }

    /// Views into `workspace` by byte offset, after checking that it holds `bytes`; `op` names
    /// the launcher in the error.
    func workspaceParts(
        _ workspace: DeviceBuffer, needing bytes: Int, for op: String = "sparseAttentionBackward"
    ) throws -> (Int) -> DeviceBuffer {
        guard workspace.byteCount >= bytes else {
            throw CUDAError.invalidArgument(
                "\(op): workspace holds \(workspace.byteCount) bytes, "
                    + "expected at least \(bytes)")
        }
        return { [device] offset in
            DeviceBuffer(
                device: device, borrowing: workspace.address + UInt64(offset),
                byteCount: workspace.byteCount - offset)
        }
    }
}
