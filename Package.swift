// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// LLVM's OpenMP (Debian's libomp-dev) lives under /usr/lib/llvm-<version>; find the newest one that
/// has both the header and the library instead of hard-coding a version. `make` installs it when missing.
func openMPPaths() -> (include: String, lib: String)? {
    let fm = FileManager.default
    let roots = ((try? fm.contentsOfDirectory(atPath: "/usr/lib")) ?? [])
        .filter { $0.hasPrefix("llvm-") }
        .sorted { (Int($0.dropFirst(5)) ?? 0) > (Int($1.dropFirst(5)) ?? 0) }
    for root in roots {
        let lib = "/usr/lib/\(root)/lib"
        guard fm.fileExists(atPath: "\(lib)/libomp.so") else { continue }
        let clangDir = "\(lib)/clang"
        for version in (try? fm.contentsOfDirectory(atPath: clangDir)) ?? [] {
            let include = "\(clangDir)/\(version)/include"
            if fm.fileExists(atPath: "\(include)/omp.h") { return (include, lib) }
        }
    }
    return nil
}

let omp = openMPPaths()
// -O3 in every configuration: a debug `swift run train` still runs optimised kernels.
var kernelFlags = ["-O3", "-fno-math-errno", "-std=gnu11"]
var kernelLinker: [LinkerSetting] = []
if let omp {
    kernelFlags += ["-fopenmp", "-I\(omp.include)"]
    kernelLinker = [.unsafeFlags(["-L\(omp.lib)", "-Xlinker", "-rpath", "-Xlinker", omp.lib]), .linkedLibrary("omp")]
}

let package = Package(
    name: "MLPTrainer",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "train", targets: ["train"]),
        .executable(name: "predict", targets: ["predict"]),
        .executable(name: "datagen", targets: ["datagen"]),
        .executable(name: "bench", targets: ["bench"]),
        .library(name: "MLPTrainer", targets: ["MLPTrainer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(
            name: "CKernels",
            path: "CKernels",
            cSettings: [.unsafeFlags(kernelFlags)],
            linkerSettings: kernelLinker + [.linkedLibrary("m")]
        ),
        // Open MPI, opened with dlopen only by `train --distributed mpi` (ARCHITECTURE.md, "Several
        // processes: MPI"): nothing here links libmpi, so a build without Open MPI installed works.
        .target(name: "CMPI", path: "CMPI", linkerSettings: [.linkedLibrary("dl")]),
        // ONNX's protobuf schema as Swift, generated once and committed (Sources/ONNXProto/README.md).
        .target(name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["README.md", "regenerate.sh"]),
        // -O in every configuration, as the kernels' -O3: `swift run train` (a debug build) trains as
        // fast as a release build. The last -O flag wins over SwiftPM's debug -Onone.
        .target(name: "MLPTrainer", dependencies: ["CKernels", "CMPI", "ONNXProto"], swiftSettings: [.unsafeFlags(["-O"])]),
        // What train and predict share on the command line: one error path, the CSV layout flags.
        .target(name: "CommandLineSupport",
                dependencies: ["MLPTrainer", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "train",
            dependencies: ["MLPTrainer", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "predict",
            dependencies: ["MLPTrainer", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "datagen",
            dependencies: ["MLPTrainer", "CKernels", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "bench",
            dependencies: ["MLPTrainer", "CKernels", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/bench",
            // -O in every configuration, as MLPTrainer: `bench bandwidth`'s own loops are the measurement.
            swiftSettings: [.unsafeFlags(["-O"])]
        ),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "MLPTrainerTests", dependencies: ["MLPTrainer", "CKernels", "ONNXProto"], exclude: ["Fixtures"]),
    ]
)
