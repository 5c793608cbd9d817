import HSACPU
import HSACore

/// Thin wrappers of the backend's ops over `Tensor`s, so the model code reads as a list of layer
/// calls. Shapes come from the tensors; `rows` is the number of leading rows (tokens) involved.
enum TensorOps {
    /// The backend the model runs on: `ComputeBackends.current`, else the CPU.
    static var backend: any ComputeBackend { ComputeBackends.current ?? CPUBackend.shared }

    /// out (N, O) = input (N, I) @ weight (O, I)^T + bias (O)
    static func linear(
        _ out: Tensor, _ input: Tensor, _ weight: Tensor, bias: Tensor? = nil, rows: Int
    ) {
        backend.matmulForward(
            out: out.data, input: input.data, weight: weight.data, bias: bias?.data, rows: rows,
            inputChannels: weight.shape[1], outputChannels: weight.shape[0])
    }

    /// dInput (N, I) +=, dWeight (O, I) +=, dBias (O) +=.
    static func linearBackward(
        dInput: Tensor?, dWeight: Tensor, dBias: Tensor? = nil, dOut: Tensor, input: Tensor,
        weight: Tensor, rows: Int
    ) {
        backend.matmulBackward(
            dInput: dInput?.data, dWeight: dWeight.data, dBias: dBias?.data, dOut: dOut.data,
            input: input.data, weight: weight.data, rows: rows, inputChannels: weight.shape[1],
            outputChannels: weight.shape[0])
    }

    /// `linearBackward` into a new dInput (N, I): the input's gradient of a linear layer whose
    /// input feeds nothing else.
    static func linearInputGradient(
        dWeight: Tensor, dBias: Tensor? = nil, dOut: Tensor, input: Tensor, weight: Tensor,
        rows: Int
    ) -> Tensor {
        let dInput = Tensor(shape: [rows, weight.shape[1]])
        linearBackward(
            dInput: dInput, dWeight: dWeight, dBias: dBias, dOut: dOut, input: input,
            weight: weight, rows: rows)
        return dInput
    }

    /// out (N, C), rstd (N) over rows of width `weight.count`.
    static func rmsNorm(_ out: Tensor, rstd: Tensor, _ input: Tensor, _ weight: Tensor, rows: Int) {
        backend.rmsNormForward(
            out: out.data, rstd: rstd.data, input: input.data, weight: weight.data, rows: rows,
            channels: weight.count, eps: 1e-6)
    }

    /// dInput (N, C) +=, dWeight (C) +=.
    static func rmsNormBackward(
        dInput: Tensor, dWeight: Tensor, dOut: Tensor, input: Tensor, weight: Tensor, rstd: Tensor,
        rows: Int
    ) {
        backend.rmsNormBackward(
            dInput: dInput.data, dWeight: dWeight.data, dOut: dOut.data, input: input.data,
            weight: weight.data, rstd: rstd.data, rows: rows, channels: weight.count)
    }

    /// dst += src over all elements.
    static func accumulate(_ dst: Tensor, _ src: Tensor) {
        backend.accumulate(dst.data, src.data, count: dst.count)
    }

    /// dst[0..<count] += src[0..<count] over raw row pointers (gathers and scatters of rows).
    static func accumulate(
        _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int
    ) {
        backend.accumulate(dst, src, count: count)
    }

    /// dst[0..<count] = src[0..<count] over raw row pointers.
    static func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        backend.copy(dst, src, count: count)
    }

    /// Waits for queued device ops before host code reads or writes tensor elements.
    static func synchronize() { backend.synchronize() }
}

/// Positions of the tokens of a (B, T) batch: 0..<T for every sequence, `offset` added.
func sequencePositions(batch: Int, length: Int, offset: Int = 0) -> [Int32] {
    var positions = [Int32](repeating: 0, count: batch * length)
    for b in 0..<batch {
        for t in 0..<length { positions[b * length + t] = Int32(t + offset) }
    }
    return positions
}
