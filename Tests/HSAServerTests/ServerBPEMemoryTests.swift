import Foundation
import HSA
import Testing

@testable import HSAServer

/// A document memory of a BPE checkpoint answers as `hsa ask` does.
@Suite("Server memories of a BPE checkpoint", .serialized)
struct ServerBPEMemoryTests {
    @Test("model=NAME of a BPE checkpoint answers with the text hsa ask prints")
    func bpeMemoryAnswersAsAsk() async throws {
        let fixture = try BPEMemoryFixture()
        let expected = try fixture.ask(BPEMemoryFixture.question, maxTokens: 12)
        #expect(!expected.isEmpty)
        let promptTokens = DocumentMemory.promptTokens(
            Data(BPEMemoryFixture.question.utf8), tokenizer: fixture.tokenizer)
        // BPE tokens, not bytes: merges joined some of the question's bytes.
        #expect(promptTokens.count < BPEMemoryFixture.question.utf8.count)

        let server = try await fixture.startServer()
        do {
            let models = try await request(port: server.port, "GET", "/v1/models")
            let ids = (models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == [BPEMemoryFixture.modelID, BPEMemoryFixture.memoryName])
            let reply = try await server.complete([
                "model": BPEMemoryFixture.memoryName, "prompt": BPEMemoryFixture.question,
                "max_tokens": 12, "temperature": 0,
            ])
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.completionText == expected)
            let usage = reply.json["usage"] as? [String: Int]
            #expect(usage?["prompt_tokens"] == promptTokens.count)
            // The documents and the question sent as one prompt give the same text: the
            // question's line break starts a pre-token in the joined text too.
            let joined = try await server.complete([
                "model": BPEMemoryFixture.modelID,
                "prompt": BPEMemoryFixture.document + BPEMemoryFixture.question,
                "max_tokens": 12, "temperature": 0,
            ])
            #expect(joined.completionText == expected)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }
}
