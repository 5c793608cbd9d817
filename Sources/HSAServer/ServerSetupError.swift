/// Why a server could not start (a bad flag, a memory of another model, a port in use): one
/// line for the operator.
public struct ServerSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
