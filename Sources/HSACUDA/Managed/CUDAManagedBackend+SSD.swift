import HSACore

// The Mamba2 SSD scan (the `mixer: mamba2` baseline) has no CUDA kernel yet. As with Landmark
// Attention, running it on the CPU fallback would silently make a GPU run CPU-bound, so the op
// stops the process with one line instead (a `ComputeBackend` op cannot throw).

extension CUDAManagedBackend {
    /// What a mamba2 model on `--backend cuda` is told.
    public static let ssdUnsupportedMessage =
        "the Mamba2 SSD scan is not implemented on CUDA yet; hint: train and evaluate "
        + "`mixer: mamba2` models with --backend cpu"

    public func ssdScanForward(
        out: UnsafeMutablePointer<Float>, finalState: UnsafeMutablePointer<Float>,
        inputs: SSDInputs, shape: SSDShape
    ) {
        Self.exit(CUDAError.notImplemented(Self.ssdUnsupportedMessage), op: "ssdScan")
    }

    public func ssdScanBackward(
        into gradients: SSDGradients, dOut: UnsafePointer<Float>,
        dFinalState: UnsafePointer<Float>?, inputs: SSDInputs, shape: SSDShape
    ) {
        Self.exit(CUDAError.notImplemented(Self.ssdUnsupportedMessage), op: "ssdScan")
    }
}
