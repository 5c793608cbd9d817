// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-hsa",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "HSA", targets: ["HSA"]),
        .executable(name: "hsa", targets: ["hsa"]),
        .executable(name: "hsa-serve", targets: ["hsa-serve"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Only HSAServer (hsa-serve) uses it: plain NIOHTTP1, not a web framework, so the
        // first build pays for NIOCore/NIOPosix/NIOHTTP1 alone.
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
    ],
    targets: [
        // The only C target: OpenBLAS's CBLAS interface, found through pkg-config.
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "HSACore"),
        // Console output, progress bar and SVG charts (writes through HSACore's AtomicFile).
        .target(name: "HSAReport", dependencies: ["HSACore"]),
        .target(name: "HSACPU", dependencies: ["HSACore", "CBLAS"]),
        .target(name: "HSAModel", dependencies: ["HSACore", "HSACPU"]),
        .target(name: "HSAData", dependencies: ["HSACore"]),
        .target(
            name: "HSATrain",
            dependencies: ["HSACore", "HSACPU", "HSAModel", "HSAData", "HSAReport", "HSACUDA"]
        ),
        // HSAData for the byte tokens of the documents a document memory reads.
        .target(
            name: "HSAInference", dependencies: ["HSACore", "HSACPU", "HSAModel", "HSAData"]),
        .target(
            name: "HSAEval",
            dependencies: ["HSACore", "HSAData", "HSAModel", "HSAInference", "HSAReport"]),
        .target(name: "HSACUDA", dependencies: ["HSACore"]),
        .target(
            name: "HSA",
            dependencies: [
                "HSACore", "HSAReport", "HSACPU", "HSAModel", "HSAData", "HSATrain", "HSAInference",
                "HSAEval", "HSACUDA",
            ]),
        // What `hsa selftest`, `hsa bench` and `hsa doctor` run: the GPU-vs-CPU parity suite,
        // kernel timings, the benchmarks that write JSON, the machine report.
        .target(
            name: "HSADiagnostics",
            dependencies: [
                "HSACore", "HSAReport", "HSACPU", "HSAModel", "HSATrain", "HSAInference", "HSACUDA",
            ]),
        .target(name: "HSATestSupport", dependencies: ["HSACore", "HSACPU", "HSAModel"]),
        // The OpenAI-compatible HTTP server of hsa-serve (docs/SERVER.md); `hsa` does not link it.
        .target(
            name: "HSAServer",
            dependencies: [
                "HSACore", "HSACPU", "HSAModel", "HSAData", "HSAInference", "HSACUDA",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .executableTarget(
            name: "hsa",
            dependencies: [
                "HSA", "HSADiagnostics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "hsa-serve",
            dependencies: [
                "HSACore", "HSAServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HSACoreTests", dependencies: ["HSACore", "HSATestSupport"]),
        .testTarget(name: "HSAReportTests", dependencies: ["HSAReport", "HSATestSupport"]),
        .testTarget(name: "HSACPUTests", dependencies: ["HSACore", "HSACPU", "HSATestSupport"]),
        .testTarget(
            name: "HSAModelTests",
            dependencies: ["HSACore", "HSACPU", "HSAModel", "HSATrain", "HSATestSupport"]
        ),
        .testTarget(name: "HSADataTests", dependencies: ["HSACore", "HSAData", "HSATestSupport"]),
        .testTarget(
            name: "HSATrainTests", dependencies: ["HSA", "HSACore", "HSATrain", "HSATestSupport"]),
        .testTarget(name: "HSAInferenceTests", dependencies: ["HSA", "HSATestSupport"]),
        .testTarget(name: "HSAEvalTests", dependencies: ["HSA", "HSATestSupport"]),
        .testTarget(
            name: "HSACUDATests", dependencies: ["HSA", "HSACore", "HSACUDA", "HSATestSupport"]),
        .testTarget(name: "HSAServerTests", dependencies: ["HSA", "HSAServer", "HSATestSupport"]),
        // Runs the built `hsa` binary; imports no module of the package.
        .testTarget(name: "HSACLITests", dependencies: ["HSACore"]),
    ]
)
