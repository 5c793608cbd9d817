import ArgumentParser
import Foundation
import HSA

/// `hsa export`: a checkpoint's model as a small, shippable model directory.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a checkpoint's model (config, tokenizer, weights) in bf16, int8 or fp32.",
        discussion: """
            Drops the optimizer and trainer state; bf16 halves the weights, int8 quarters them \
            (matrices as int8 with one scale per row, vectors in bf16). Loading converts them \
            back to fp32, so the exported model runs everywhere the checkpoint did, with \
            rounded weights.
            """)

    @Option(help: "Checkpoint or model directory.")
    var model: String
    @Option(help: "Output directory.")
    var out: String
    @Option(help: "Weight storage: bf16, int8 or f32.")
    var dtype: String = "bf16"
    @Option(help: "Largest weight file in bytes (default: one file).")
    var maxShardSize: Int?

    func run() throws {
        try requireOutputDirectory(out, option: "--out")
        let stored: SafetensorsDType
        switch dtype {
        case "bf16": stored = .bf16
        case "int8": stored = .i8
        case "f32", "fp32": stored = .f32
        default: throw ValidationError("--dtype must be bf16, int8 or f32, got '\(dtype)'")
        }
        let parameters = try ModelExport.write(
            checkpoint: URL(fileURLWithPath: model), to: URL(fileURLWithPath: out),
            dtype: stored, maxShardBytes: maxShardSize)
        Terminal.printLine("wrote \(parameters) parameters as \(dtype) to \(out)")
    }
}
