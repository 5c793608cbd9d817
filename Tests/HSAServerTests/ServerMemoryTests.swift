import Foundation
import Testing

@testable import HSAServer

/// A document memory named at start answers as the documents and the prompt read together.
@Suite("Server memories", .serialized)
struct ServerMemoryTests {
    @Test("model=NAME answers the question as the model does with the documents in the prompt")
    func memoryMatchesFullPrompt() async throws {
        try await withServer(memory: true) { fixture in
            let models = try await request(port: fixture.port, "GET", "/v1/models")
            let ids = (models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == [ServerFixture.modelID, "haystack"])
            let fromMemory = try await fixture.complete([
                "model": "haystack", "prompt": ServerFixture.question, "max_tokens": 10,
                "temperature": 0,
            ])
            let fromPrompt = try await fixture.complete([
                "model": ServerFixture.modelID,
                "prompt": ServerFixture.document + ServerFixture.question, "max_tokens": 10,
                "temperature": 0,
            ])
            #expect(fromMemory.status == 200)
            #expect(fromMemory.json["model"] as? String == "haystack")
            let text = try #require(fromMemory.completionText)
            #expect(!text.isEmpty)
            #expect(text == fromPrompt.completionText)
            // Only the question was read: the documents came from the memory.
            let usage = fromMemory.json["usage"] as? [String: Int]
            #expect(usage?["prompt_tokens"] == ServerFixture.question.utf8.count)
            // A second question starts from the memory again, not after the first one.
            let again = try await fixture.complete([
                "model": "haystack", "prompt": ServerFixture.question, "max_tokens": 10,
                "temperature": 0, "stream": true,
            ])
            #expect(again.text.hasSuffix("data: [DONE]\n\n"))
            #expect(again.streamedText == text)
        }
    }

    @Test("A memory name that clashes with the model or is not an id is refused at start")
    func badMemoryNames() throws {
        let missing = URL(fileURLWithPath: "/nonexistent-memory")
        #expect(throws: ServerSetupError.self) {
            try ModelCatalog(
                checkpoint: ServerFixture.checkpoint, memories: [("bad/name", missing)])
        }
        #expect(throws: ServerSetupError.self) {
            try ModelCatalog(checkpoint: ServerFixture.checkpoint, memories: [("m", missing)])
        }
    }
}
