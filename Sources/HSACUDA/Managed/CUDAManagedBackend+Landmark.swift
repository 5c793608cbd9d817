import HSACore

// Landmark Attention (the `attention: landmark` baseline) has no CUDA kernel yet. Running it
// on the CPU fallback would silently make a GPU run CPU-bound for every layer, so the op stops
// the process with one line instead (a `ComputeBackend` op cannot throw).

extension CUDAManagedBackend {
    /// What a landmark model on `--backend cuda` is told.
    public static let landmarkUnsupportedMessage =
        "landmark attention is not implemented on CUDA yet; hint: train and evaluate "
        + "`attention: landmark` models with --backend cpu"

    public func landmarkAttentionForward(
        into results: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape
    ) {
        Self.exit(
            CUDAError.notImplemented(Self.landmarkUnsupportedMessage), op: "landmarkAttention")
    }

    public func landmarkAttentionBackward(
        into gradients: LandmarkAttentionGradients, dOut: UnsafePointer<Float>,
        forward: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape
    ) {
        Self.exit(
            CUDAError.notImplemented(Self.landmarkUnsupportedMessage), op: "landmarkAttention")
    }
}
