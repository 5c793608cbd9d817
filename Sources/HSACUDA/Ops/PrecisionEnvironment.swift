// Reading a precision choice (`MatmulPrecision`, `AttentionPrecision`) from the environment.

import Foundation

/// The case named by environment `variable` (case-insensitive), or `fallback` when it is unset
/// or empty.
/// - Throws: `CUDAError.invalidArgument` listing the allowed names for an unknown one.
func precision<P: RawRepresentable & CaseIterable>(
    fromEnvironment variable: String, fallback: P
) throws -> P where P.RawValue == String {
    guard let name = ProcessInfo.processInfo.environment[variable], !name.isEmpty else {
        return fallback
    }
    guard let value = P(rawValue: name.lowercased()) else {
        let names = P.allCases.map(\.rawValue).joined(separator: ", ")
        throw CUDAError.invalidArgument("\(variable) is '\(name)', expected one of \(names)")
    }
    return value
}
