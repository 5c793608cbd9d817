import Foundation
import HSA

/// A fresh directory under the system temporary directory.
struct EvalTemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-eval-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The generator all tests use: built-in texts only, so tests need no data files.
let builtInGenerator = TaskGenerator(sources: .builtIn)

/// Prompt token count the harness feeds the model: BOS + bytes of input and answer prefix.
func promptTokenCount(_ sample: EvalSample) -> Int { 1 + sample.promptText.utf8.count }
