import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file operation failed, in a few words ("Is a directory", "Permission denied"): the
/// POSIX reason under a Foundation error, whose own text is often only "The operation could
/// not be completed. (NSCocoaErrorDomain error 256.)".
public func fileErrorReason(_ error: any Error) -> String {
    // On Linux the underlying error is a `POSIXError`, which does not cast to NSError.
    let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey]
    for candidate in [underlying, error] {
        if let posix = candidate as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        if let ns = candidate as? NSError, ns.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(ns.code)))
        }
    }
    return (error as NSError).localizedDescription
}
