// C types of the CUDA driver, NVRTC and cuBLAS APIs as Swift sees them through dlsym.
// Enums are passed as Int32; handles are opaque pointers; device addresses are UInt64.

/// `CUresult` (0 = CUDA_SUCCESS).
public typealias CUresult = Int32
/// `CUdevice`, an ordinal.
public typealias CUdevice = Int32
/// `CUdeviceptr`, a device address.
public typealias CUdeviceptr = UInt64
/// `CUcontext`, `CUmodule`, `CUfunction`, `CUstream`, `CUevent`: opaque handles.
public typealias CUhandle = OpaquePointer
/// `nvrtcResult` (0 = NVRTC_SUCCESS).
public typealias NVRTCResult = Int32
/// `cublasStatus_t` (0 = CUBLAS_STATUS_SUCCESS).
public typealias CUBLASStatus = Int32

/// Device attributes read by `CUDADevice` (values from cuda.h's `CUdevice_attribute`).
enum CUDeviceAttribute: Int32 {
    case multiprocessorCount = 16
    case computeCapabilityMajor = 75
    case computeCapabilityMinor = 76
}
