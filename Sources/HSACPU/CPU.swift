/// Namespace of the CPU backend's ops: `<op>Forward` / `<op>Backward` free functions over raw
/// fp32 pointers. Shapes are given in each function's doc comment; all buffers are contiguous,
/// row-major.
public enum CPU {}
