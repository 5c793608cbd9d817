import Foundation
import Testing

@testable import HSAServer

/// The routes of a running server: health, models, completions whole and streamed.
@Suite("Server routes", .serialized)
struct ServerRouteTests {
    @Test("GET /health and GET /v1/models list the model")
    func healthAndModels() async throws {
        try await withServer { fixture in
            let health = try await request(port: fixture.port, "GET", "/health")
            #expect(health.status == 200)
            #expect(health.json["status"] as? String == "ok")
            let models = try await request(port: fixture.port, "GET", "/v1/models")
            #expect(models.status == 200)
            #expect(models.json["object"] as? String == "list")
            let ids = (models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == [ServerFixture.modelID])
        }
    }

    @Test("A greedy completion is repeatable, counts its tokens and streams the same text")
    func completionWholeAndStreamed() async throws {
        try await withServer { fixture in
            let fields: [String: Any] = [
                "model": ServerFixture.modelID,
                "prompt": ServerFixture.document
                    + ServerFixture.question, "max_tokens": 8, "temperature": 0,
            ]
            let first = try await fixture.complete(fields)
            #expect(first.status == 200)
            #expect(first.json["object"] as? String == "text_completion")
            let usage = try #require(first.json["usage"] as? [String: Int])
            let promptBytes = (ServerFixture.document + ServerFixture.question).utf8.count
            #expect(usage["prompt_tokens"] == promptBytes + 1)
            #expect((1...8).contains(usage["completion_tokens"] ?? 0))
            let text = try #require(first.completionText)
            #expect(!text.isEmpty)
            let second = try await fixture.complete(fields)
            #expect(second.completionText == text)

            var streamed = fields
            streamed["stream"] = true
            let reply = try await fixture.complete(streamed)
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "text/event-stream")
            #expect(reply.text.hasSuffix("data: [DONE]\n\n"))
            let events = reply.events
            #expect(events.last == "[DONE]")
            let chunks = events.dropLast().map {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
            }
            #expect(chunks.allSatisfy { $0["object"] as? String == "text_completion" })
            let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
            #expect(choices.count == chunks.count)
            #expect(choices.compactMap { $0["text"] as? String }.joined() == text)
            // Only the last chunk says why it stopped.
            #expect(choices.last?["finish_reason"] as? String != nil)
            #expect(choices.dropLast().allSatisfy { $0["finish_reason"] is NSNull })
        }
    }

    @Test("A stop string cuts the text before it")
    func stopString() async throws {
        try await withServer { fixture in
            var fields: [String: Any] = [
                "model": ServerFixture.modelID,
                "prompt": ServerFixture.document
                    + ServerFixture.question, "max_tokens": 8, "temperature": 0,
            ]
            let full = try #require(try await fixture.complete(fields).completionText)
            try #require(full.count >= 4)
            let stop = String(full.dropFirst(2).prefix(2))
            fields["stop"] = [stop]
            let cut = try await fixture.complete(fields)
            let expected = String(full[..<full.range(of: stop)!.lowerBound])
            #expect(cut.completionText == expected)
            let choice = (cut.json["choices"] as? [[String: Any]])?.first
            #expect(choice?["finish_reason"] as? String == "stop")
        }
    }
}
