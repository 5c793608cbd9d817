import Foundation
import HSA
import HSATestSupport

/// The generator all tests use: built-in texts only, so tests need no data files.
let builtInGenerator = TaskGenerator(sources: .builtIn)

/// Prompt token count the harness feeds the model: BOS + bytes of input and answer prefix.
func promptTokenCount(_ sample: EvalSample) -> Int { 1 + sample.promptText.utf8.count }
