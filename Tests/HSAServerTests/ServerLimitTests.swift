import Foundation
import Testing

@testable import HSAServer

/// The API key, the body limit, the queue bound and the read deadline.
@Suite("Server limits", .serialized)
struct ServerLimitTests {
    @Test("With an API key: 401 without it or with a wrong one, 200 with it; /health is open")
    func apiKey() async throws {
        try await withServer(apiKey: "sk-right-key") { fixture in
            let port = fixture.port
            let none = try await request(port: port, "GET", "/v1/models")
            #expect(none.status == 401)
            #expect(none.error("code") as? String == "invalid_api_key")
            let wrong = try await request(
                port: port, "GET", "/v1/models", headers: ["Authorization": "Bearer sk-wrong-key"])
            #expect(wrong.status == 401)
            let prefix = try await request(
                port: port, "GET", "/v1/models", headers: ["Authorization": "Bearer sk-right"])
            #expect(prefix.status == 401)
            let right = try await request(
                port: port, "GET", "/v1/models", headers: ["Authorization": "Bearer sk-right-key"])
            #expect(right.status == 200)
            let completion = try await fixture.complete(
                ["model": ServerFixture.modelID, "prompt": "x"],
                headers: ["Authorization": "Bearer nope"])
            #expect(completion.status == 401)
            #expect(try await request(port: port, "GET", "/health").status == 200)
        }
    }

    @Test("A body over the limit gets 413, by its Content-Length or as it arrives")
    func bodyTooLarge() async throws {
        var limits = ServerLimits()
        limits.maxBodyBytes = 1000
        try await withServer(limits: limits) { fixture in
            let prompt = String(repeating: "a", count: 5000)
            let declared = try await fixture.complete([
                "model": ServerFixture.modelID, "prompt": prompt,
            ])
            #expect(declared.status == 413)
            #expect(declared.error("code") as? String == "request_too_large")
            // Chunked: no length up front, refused once 1000 bytes have come.
            let port = fixture.port
            let raw = try await onThread {
                let connection = try RawConnection(port: port)
                let chunk = String(repeating: "b", count: 600)
                connection.send(
                    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n")
                return connection.read()
            }
            let chunked = try #require(parseReply(raw))
            #expect(chunked.status == 413)
        }
    }

    @Test("With every place taken, a completion gets 429 with Retry-After; freed, 200")
    func queueFull() async throws {
        var limits = ServerLimits()
        limits.workers = 1
        limits.queueDepth = 1
        try await withServer(limits: limits) { fixture in
            let pool = fixture.server.pool
            // Both places (one worker, one waiting) held as running completions would hold them.
            #expect(pool.admit())
            #expect(pool.admit())
            #expect(!pool.admit())
            let fields: [String: Any] = [
                "model": ServerFixture.modelID, "prompt": "x", "max_tokens": 1,
            ]
            let refused = try await fixture.complete(fields)
            #expect(refused.status == 429)
            #expect(refused.headers["retry-after"] == "1")
            #expect(refused.error("code") as? String == "queue_full")
            pool.release()
            pool.release()
            #expect(try await fixture.complete(fields).status == 200)
        }
    }

    @Test("Completions beyond the workers wait in the queue and all finish")
    func queued() async throws {
        var limits = ServerLimits()
        limits.workers = 1
        limits.queueDepth = 3
        try await withServer(limits: limits) { fixture in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await fixture.complete([
                            "model": ServerFixture.modelID, "prompt": "question \(index)",
                            "max_tokens": 4,
                        ]).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == [200, 200, 200, 200])
            // Each worker frees its place before it hands over the answer.
            #expect(fixture.server.pool.load == 0)
        }
    }

    @Test("A client that does not finish its request in time gets 408 and is closed")
    func slowClient() async throws {
        var limits = ServerLimits()
        limits.readTimeout = 1
        try await withServer(limits: limits) { fixture in
            let port = fixture.port
            let raw = try await onThread {
                let connection = try RawConnection(port: port)
                connection.send(
                    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
                return connection.read()
            }
            let reply = try #require(parseReply(raw))
            #expect(reply.status == 408)
            #expect(reply.headers["connection"] == "close")
        }
    }
    @Test("Beyond --max-connections a connection gets 503 and is closed; a freed place admits")
    func connectionCap() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 1
        try await withServer(limits: limits) { fixture in
            let port = fixture.port
            // An idle connection takes the one place (the read timeout is 10 s).
            let idle = try await onThread { try RawConnection(port: port) }
            try await waitUntil { fixture.server.openConnections == 1 }
            let refused = try #require(
                parseReply(
                    try await onThread {
                        try RawConnection(port: port).read()
                    }))
            #expect(refused.status == 503)
            #expect(refused.headers["connection"] == "close")
            #expect(refused.error("code") as? String == "too_many_connections")
            idle.hangUp()
            try await waitUntil { fixture.server.openConnections == 0 }
            #expect(try await request(port: port, "GET", "/health").status == 200)
        }
    }
}
