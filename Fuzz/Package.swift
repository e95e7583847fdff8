// swift-tools-version: 6.0
// libFuzzer targets for the Swift readers (README, "What the trainer guarantees"); built by
// `make fuzz` with -sanitize=fuzzer,address. The CSV parser's target is C (csv_fuzz.c).
import Foundation
import PackageDescription

/// The trainer's package is this directory's parent; SwiftPM names it after the parent's folder.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

let fuzzTarget = { (name: String) in
    Target.executableTarget(name: name, dependencies: [.product(name: "MLPTrainer", package: root.lastPathComponent)],
                            swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "Fuzz",
    dependencies: [.package(path: root.path)],
    targets: ["FuzzCheckpoint", "FuzzMetadata", "FuzzActivation"].map(fuzzTarget)
)
