import ArgumentParser
import Foundation
import HSACore
import HSAServer

/// `hsa-serve`: serves a checkpoint, and document memories under names of their own, over an
/// OpenAI-compatible HTTP API (docs/SERVER.md).
@main
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hsa-serve",
        abstract: "Serve a model and document memories over an OpenAI-compatible HTTP API.")

    @Option(help: "Checkpoint directory (config.json + model.safetensors).")
    var model: String
    @Option(help: "The model's id in the API (default: the checkpoint directory's name).")
    var modelName: String?
    @Option(
        help: ArgumentHelp(
            "A document memory (hsa memory build) served as the model id NAME; repeatable.",
            valueName: "NAME=MEM"))
    var memory: [String] = []
    @Option(help: "Address to listen on (default: loopback only).")
    var host = "127.0.0.1"
    @Option(help: "TCP port (0: any free one, printed at start).")
    var port = 8080
    @Option(
        help: "File holding the API key clients must send (default: the HSA_API_KEY variable).")
    var apiKeyFile: String?
    @OptionGroup var limits: LimitOptions
    @Option(help: "cpu or cuda (managed memory on GPU 0; document memories need cpu).")
    var backend = "cpu"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard ["cpu", "cuda"].contains(backend) else {
            throw ValidationError("--backend must be cpu or cuda, got '\(backend)'")
        }
        if backend == "cuda", !memory.isEmpty {
            throw ValidationError("--memory needs --backend cpu (memories restore on the CPU)")
        }
    }

    func run() async throws {
        do {
            try installBackend(backend)
            var configuration = ServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.apiKey = try apiKey()
            configuration.limits = limits.serverLimits
            let catalog = try ModelCatalog(
                checkpoint: URL(fileURLWithPath: model), modelID: modelName,
                memories: try memory.map(parseMemory))
            let server = try await CompletionServer.start(configuration, catalog: catalog)
            // Unbuffered: a script that started the server with --port 0 reads the port here.
            FileHandle.standardOutput.write(
                Data(
                    ("hsa-serve: listening on http://\(host):\(server.port) (models: "
                        + catalog.ids.joined(separator: ", ") + "; "
                        + (configuration.apiKey == nil ? "no API key" : "API key required")
                        + ")\n").utf8))
            // SIGTERM/SIGINT stop the listening only; the completions already admitted end,
            // then `shutdown` closes what is left.
            let signals = ShutdownSignals { server.stopListening() }
            try await server.waitUntilClosed()
            try await server.shutdown()
            withExtendedLifetime(signals) {}
            FileHandle.standardOutput.write(Data("hsa-serve: stopped\n".utf8))
        } catch let error as ServerSetupError {
            FileHandle.standardError.write(Data("hsa-serve: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// `--api-key-file` (its first line), else HSA_API_KEY, else none.
    private func apiKey() throws -> String? {
        if let apiKeyFile {
            guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8),
                let key = text.split(whereSeparator: \.isNewline).first, !key.isEmpty
            else { throw ServerSetupError("--api-key-file \(apiKeyFile): no key in the file") }
            return String(key)
        }
        let key = HSAEnvironment.apiKey.value
        return key?.isEmpty == false ? key : nil
    }

    /// `NAME=MEM` → (NAME, MEM's URL).
    private func parseMemory(_ argument: String) throws -> (String, URL) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex,
            argument.index(after: equals) != argument.endIndex
        else { throw ServerSetupError("--memory \(argument): expected NAME=MEM") }
        let path = String(argument[argument.index(after: equals)...])
        return (String(argument[..<equals]), URL(fileURLWithPath: path))
    }
}
