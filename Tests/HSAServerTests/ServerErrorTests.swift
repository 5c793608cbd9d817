import Foundation
import Testing

@testable import HSAServer

/// Bad requests get OpenAI-shaped 4xx errors and the server goes on answering.
@Suite("Server errors", .serialized)
struct ServerErrorTests {
    @Test("Bad JSON, unknown model, bad fields, unknown routes: 4xx in OpenAI's error shape")
    func badRequests() async throws {
        try await withServer { fixture in
            let port = fixture.port
            let notJSON = try await request(port: port, "POST", "/v1/completions", body: "{oops")
            #expect(notJSON.status == 400)
            #expect(notJSON.error("type") as? String == "invalid_request_error")
            #expect(notJSON.error("code") as? String == "invalid_json")
            #expect(notJSON.error("param") is NSNull)
            #expect((notJSON.error("message") as? String)?.isEmpty == false)

            let unknown = try await fixture.complete(["model": "no-such-model", "prompt": "x"])
            #expect(unknown.status == 404)
            #expect(unknown.error("code") as? String == "model_not_found")
            #expect(unknown.error("param") as? String == "model")

            let missing = try await fixture.complete(["prompt": "x"])
            #expect(missing.status == 400)
            #expect(missing.error("param") as? String == "model")

            let wrongType = try await fixture.complete([
                "model": ServerFixture.modelID, "prompt": "x", "temperature": "hot",
            ])
            #expect(wrongType.status == 400)
            #expect(wrongType.error("param") as? String == "temperature")

            let tooMany = try await fixture.complete([
                "model": ServerFixture.modelID, "prompt": "x", "max_tokens": 1_000_000,
            ])
            #expect(tooMany.status == 400)
            #expect(tooMany.error("param") as? String == "max_tokens")

            let twoChoices = try await fixture.complete([
                "model": ServerFixture.modelID, "prompt": "x", "n": 2,
            ])
            #expect(twoChoices.status == 400)
            #expect(twoChoices.error("param") as? String == "n")

            let noRoute = try await request(port: port, "GET", "/v1/nothing")
            #expect(noRoute.status == 404)
            let wrongMethod = try await request(port: port, "GET", "/v1/completions")
            #expect(wrongMethod.status == 405)

            let fine = try await fixture.complete([
                "model": ServerFixture.modelID, "prompt": "x", "max_tokens": 1,
            ])
            #expect(fine.status == 200)
        }
    }

    @Test("A prompt over the token limit is refused with context_length_exceeded")
    func promptTooLong() async throws {
        var limits = ServerLimits()
        limits.maxPromptTokens = 10
        try await withServer(limits: limits) { fixture in
            let long = try await fixture.complete([
                "model": ServerFixture.modelID, "prompt": "0123456789",
            ])
            #expect(long.status == 400)
            #expect(long.error("code") as? String == "context_length_exceeded")
            let short = try await fixture.complete([
                "model": ServerFixture.modelID, "prompt": "012345678", "max_tokens": 1,
            ])
            #expect(short.status == 200)
        }
    }
}
