import ArgumentParser
import HSADiagnostics

extension HSACommand {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report what this machine offers hsa: BLAS, threads, CUDA device.")

        func run() throws { MachineReport.printLines() }
    }
}
