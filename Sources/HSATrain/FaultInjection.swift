import Foundation
import HSACore
import HSAReport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `HSA_TEST_KILL_RANK=r HSA_TEST_KILL_STEP=s`: rank r kills itself with SIGKILL after step s
/// (tests and dev/multi-gpu/check.sh use it to show how the other ranks stop).
public enum FaultInjection {
    /// Called after every training step; returns unless this rank and step were named.
    public static func afterStep(_ step: Int, rank: Int) {
        let environment = ProcessInfo.processInfo.environment
        guard let killRank = environment[HSAEnvironment.testKillRank.rawValue].flatMap({ Int($0) }),
            let killStep = environment[HSAEnvironment.testKillStep.rawValue].flatMap({ Int($0) }),
            killRank == rank, killStep == step
        else { return }
        Terminal.printError("rank \(rank): HSA_TEST_KILL_STEP=\(step) reached, killing myself")
        kill(getpid(), SIGKILL)
    }
}
