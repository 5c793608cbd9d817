import Foundation
import HSA
import Testing

/// The multi-process launcher on /bin/sh: every rank gets its environment, a failing rank is
/// named with its status, and the other ranks are stopped at once instead of hanging.
@Suite struct RankLauncherTests {
    static func launcher(_ script: String, worldSize: Int) -> RankLauncher {
        RankLauncher(
            executable: URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", script],
            worldSize: worldSize, environment: ["HSA_TEST_MARK": "x"])
    }

    @Test func everyRankRunsWithItsEnvironment() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-launch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script =
            "echo \"$HSA_RANK $HSA_WORLD_SIZE $HSA_DEVICE_ORDINAL $HSA_TEST_MARK\" > "
            + "\(directory.path)/rank-$HSA_RANK"
        var started: [Int] = []
        try Self.launcher(script, worldSize: 3).run { rank, _ in started.append(rank) }
        #expect(started == [0, 1, 2])
        for rank in 0..<3 {
            let text = try String(
                contentsOf: directory.appendingPathComponent("rank-\(rank)"), encoding: .utf8)
            #expect(text == "\(rank) 3 \(rank) x\n")
        }
    }

    @Test func failingRankStopsTheOthers() throws {
        // Rank 1 fails after 0.2 s; ranks 0 and 2 would run for a minute.
        let script = "if [ \"$HSA_RANK\" = 1 ]; then sleep 0.2; exit 3; fi; exec sleep 60"
        let start = Date()
        do {
            try Self.launcher(script, worldSize: 3).run()
            Issue.record("the launch should have failed")
        } catch LaunchError.rankFailed(let rank, let worldSize, let exit, _) {
            #expect(rank == 1)
            #expect(worldSize == 3)
            #expect(exit.code == 3 && !exit.signaled)
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func killedRankIsReportedWithItsSignal() throws {
        let script = "if [ \"$HSA_RANK\" = 0 ]; then kill -9 $$; fi; exec sleep 60"
        do {
            try Self.launcher(script, worldSize: 2).run()
            Issue.record("the launch should have failed")
        } catch let error as LaunchError {
            let message = "\(error)"
            #expect(message.contains("rank 0 of 2 was killed by signal 9 (SIGKILL)"))
            #expect(message.contains("--resume"))
        }
    }

    @Test func environmentNamesTheRank() {
        #expect(
            RankEnvironment.current(["HSA_RANK": "1", "HSA_WORLD_SIZE": "4"])! == (1, 4))
        #expect(RankEnvironment.current(["HSA_RANK": "4", "HSA_WORLD_SIZE": "4"]) == nil)
        #expect(RankEnvironment.current([:]) == nil)
    }

    @Test func aRankChecksItsPlaceAndNamesItselfInErrors() throws {
        let environment = ["HSA_RANK": "1", "HSA_WORLD_SIZE": "4"]
        #expect(try RankEnvironment.place(forGPUs: 4, environment: environment)! == (1, 4))
        #expect(try RankEnvironment.place(forGPUs: 2, environment: [:]) == nil)
        do {
            _ = try RankEnvironment.place(forGPUs: 2, environment: environment)
            Issue.record("a rank of 4 ran as one of 2")
        } catch let error as LaunchError {
            #expect("\(error)" == "rank 1: launched as one of 4 ranks but --gpus is 2")
        }
        struct Failure: Error, CustomStringConvertible { let description: String }
        #expect(
            RankEnvironment.message(for: Failure(description: "disk full"), rank: 3)
                == "rank 3: disk full")
        #expect(
            RankEnvironment.message(for: Failure(description: "rank 3: gone"), rank: 3)
                == "rank 3: gone")
        // Alone or as the only rank there is nothing to reduce: no NCCL is needed.
        #expect(try NCCLGradientReducer.join(place: nil) == nil)
        #expect(try NCCLGradientReducer.join(place: (rank: 0, worldSize: 1)) == nil)
    }
}
