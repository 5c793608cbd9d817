import HSACPU
import HSACore
import HSAModel

extension ParameterStore {
    /// The first tensor holding a NaN or an infinity, or nil when every value is finite.
    ///
    /// One sum of squares over the whole store (on the current backend) answers the common
    /// case: it is finite exactly when every value is, since a Float squared cannot overflow
    /// the Double it is summed in. Only a non-finite store is searched tensor by tensor.
    func firstNonFiniteTensor() -> String? {
        let backend = ComputeBackends.current ?? CPUBackend.shared
        guard !backend.sumOfSquares(storage.data, count: storage.count).isFinite else {
            return nil
        }
        for spec in layout.specs {
            guard let offset = layout.offsets[spec.name] else { continue }
            if !backend.sumOfSquares(storage.data + offset, count: spec.count).isFinite {
                return spec.name
            }
        }
        return "(unnamed)"
    }
}
