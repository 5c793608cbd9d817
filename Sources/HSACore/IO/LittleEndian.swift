// Little-endian arrays at any byte offset: safetensors data and token shards are unpadded, so
// their elements need not be aligned to their size.

extension UnsafeRawPointer {
    /// Element `index` of the little-endian array of `T` that starts here.
    @inline(__always)
    public func littleEndian<T: FixedWidthInteger>(_: T.Type, at index: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
    }
}
