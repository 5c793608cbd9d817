import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A response as read off the wire: status, headers (names lower-cased) and the body with any
/// chunked framing removed.
struct HTTPReply: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    }

    /// `error.<field>` of an OpenAI error body.
    func error(_ field: String) -> Any? { (json["error"] as? [String: Any])?[field] }
}

/// A blocking TCP connection to the server on loopback, for requests a URL client cannot make
/// (a partial request, a lying Content-Length) and for reading the bytes exactly as sent.
/// Every blocking call runs on a thread of its own, off Swift's cooperative pool.
final class RawConnection: @unchecked Sendable {
    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(socket) }

    /// Ends the connection in both directions now (the descriptor closes at deinit).
    func hangUp() { shutdown(socket, Int32(SHUT_RDWR)) }

    func send(_ text: String) { send(Data(text.utf8)) }

    func send(_ data: Data) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(
                    socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return }
                offset += sent
            }
        }
    }

    /// Reads until `done` holds for what arrived, or the peer closes; returns everything read.
    func read(until done: (Data) -> Bool = { _ in false }) -> Data {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !done(received) {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }
}

/// Polls `condition` every 10 ms until it holds; throws after `seconds`.
func waitUntil(seconds: Double = 10, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw POSIXError(.ETIMEDOUT) }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
}

/// Runs `body` on a new thread and waits for it without holding a cooperative thread.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Parses a whole response (the connection closed after it).
func parseReply(_ raw: Data) -> HTTPReply? {
    guard let split = raw.firstRange(of: Data("\r\n\r\n".utf8)) else { return nil }
    let headText = String(decoding: raw[..<split.lowerBound], as: UTF8.self)
    var lines = headText.components(separatedBy: "\r\n")
    let statusLine = lines.removeFirst().split(separator: " ")
    guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
    var headers: [String: String] = [:]
    for line in lines {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
            .trimmingCharacters(in: .whitespaces)
    }
    var body = Data(raw[split.upperBound...])
    if headers["transfer-encoding"] == "chunked" { body = dechunk(body) }
    return HTTPReply(status: status, headers: headers, body: body)
}

/// The payload of a chunked body.
private func dechunk(_ data: Data) -> Data {
    var result = Data()
    var rest = data[...]
    while let lineEnd = rest.firstRange(of: Data("\r\n".utf8)) {
        let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self)
        guard let size = Int(sizeText, radix: 16), size > 0 else { break }
        let start = lineEnd.upperBound
        let end = rest.index(start, offsetBy: size)
        guard end <= rest.endIndex else { break }
        result.append(rest[start..<end])
        rest = rest[min(rest.index(end, offsetBy: 2), rest.endIndex)...]
    }
    return result
}

/// Sends one request with `Connection: close` and reads the whole reply.
func request(
    port: Int, _ method: String, _ path: String, body: String? = nil,
    headers: [String: String] = [:]
) async throws -> HTTPReply {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    if let body {
        head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
    }
    let message = head + "\r\n" + (body ?? "")
    let raw = try await onThread {
        let connection = try RawConnection(port: port)
        connection.send(message)
        return connection.read()
    }
    guard let reply = parseReply(raw) else {
        throw POSIXError(.EBADMSG)
    }
    return reply
}
