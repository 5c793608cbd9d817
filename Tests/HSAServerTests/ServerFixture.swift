import Foundation
import HSA
import HSATestSupport

@testable import HSAServer

/// A real server on a free loopback port, serving the shipped tiny model
/// (models/ruler-4k-seq-top8) and, when asked, a document memory built here from `document`.
struct ServerFixture {
    static let checkpoint = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/ruler-4k-seq-top8")
    static let modelID = "ruler-4k-seq-top8"
    /// The documents of the test memory: a RULER-like haystack with one needle.
    static let document =
        String(repeating: "The grass is green. The sky is blue. ", count: 6)
        + "One of the special magic numbers for quiet-lake is: 4817263. "
        + String(repeating: "The sun is yellow. Here we go. ", count: 4)
    static let question =
        "\nWhat is the special magic number for quiet-lake mentioned in the provided text? "
        + "The special magic number for quiet-lake mentioned in the provided text is"

    let server: CompletionServer
    let directory: TemporaryDirectory
    var port: Int { server.port }

    /// Starts a server with `limits` and `apiKey`; with `memory` it also serves a memory of
    /// `document` as the model id "haystack".
    static func start(
        limits: ServerLimits = ServerLimits(), apiKey: String? = nil, memory: Bool = false
    ) async throws -> ServerFixture {
        let directory = try TemporaryDirectory("serve")
        var memories: [(String, URL)] = []
        if memory {
            let url = directory.file("haystack")
            let documentURL = try directory.write("document.txt", document)
            let model = try LanguageModel.load(from: checkpoint)
            let writer = try DocumentMemoryWriter(
                creating: url, model: model, identity: ModelIdentity(checkpoint: checkpoint))
            try writer.read(documents: [documentURL])
            try writer.commit()
            memories.append(("haystack", url))
        }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.apiKey = apiKey
        configuration.limits = limits
        let catalog = try ModelCatalog(checkpoint: checkpoint, memories: memories)
        let server = try await CompletionServer.start(configuration, catalog: catalog)
        return ServerFixture(server: server, directory: directory)
    }

    /// Stops the server and deletes the memory.
    func stop() async throws {
        try await server.shutdown()
        directory.remove()
    }

    /// `POST /v1/completions` with `fields` as the JSON body.
    func complete(_ fields: [String: Any], headers: [String: String] = [:]) async throws
        -> HTTPReply
    {
        let body = try JSONSerialization.data(withJSONObject: fields)
        return try await request(
            port: port, "POST", "/v1/completions", body: String(decoding: body, as: UTF8.self),
            headers: headers)
    }
}

extension HTTPReply {
    /// `choices[0].text` of a completion.
    var completionText: String? {
        ((json["choices"] as? [[String: Any]])?.first?["text"]) as? String
    }

    /// The text of a streamed completion: its chunks' texts joined.
    var streamedText: String {
        events.dropLast().compactMap { event in
            let chunk =
                (try? JSONSerialization.jsonObject(with: Data(event.utf8))) as? [String: Any]
            return ((chunk?["choices"] as? [[String: Any]])?.first?["text"]) as? String
        }.joined()
    }

    /// The `data:` payloads of a server-sent-events body, in order.
    var events: [String] {
        text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            event.hasPrefix("data: ") ? String(event.dropFirst(6)) : "<unframed: \(event)>"
        }
    }
}

/// Runs `body` against a fresh server (see `ServerFixture.start`), stopping it afterwards.
func withServer(
    limits: ServerLimits = ServerLimits(), apiKey: String? = nil, memory: Bool = false,
    _ body: (ServerFixture) async throws -> Void
) async throws {
    let fixture = try await ServerFixture.start(limits: limits, apiKey: apiKey, memory: memory)
    do {
        try await body(fixture)
    } catch {
        try? await fixture.stop()
        throw error
    }
    try await fixture.stop()
}
