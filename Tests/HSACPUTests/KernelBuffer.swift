/// A heap buffer of values (fp32, Int32, ...) that the fp32 kernels under test can write
/// through: one slot at least, so empty shapes still get a valid pointer.
final class KernelBuffer<Element> {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ values: [Element]) {
        count = values.count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(from: values, count: count)
    }

    convenience init(repeating value: Element, count: Int) {
        self.init([Element](repeating: value, count: count))
    }

    var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    var readOnly: UnsafePointer<Element> { UnsafePointer(pointer) }

    deinit { pointer.deallocate() }
}

extension KernelBuffer where Element == Float {
    /// NaN-filled, so a missed write shows.
    convenience init(count: Int) { self.init(repeating: .nan, count: count) }
    /// Float64 values rounded to fp32, as the kernels get them.
    convenience init(_ values: [Double]) { self.init(values.map(Float.init)) }
}
