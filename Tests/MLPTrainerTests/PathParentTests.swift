import Foundation
import MLPTrainer
import Testing

/// Output paths of one character ("x"), on which swift-corelibs-foundation's
/// deletingLastPathComponent traps, are ordinary names.
@Suite struct PathParentTests {
    @Test func parentsAsNSStringNamesThem() {
        let cases = [("x", ""), ("x/", ""), ("ab", ""), ("/x", "/"), ("/", "/"), ("a/x", "a"), ("a//x", "a"), ("./x", "."),
                     ("runs/a/", "runs"), ("/tmp/runs/x", "/tmp/runs")]
        for (path, parent) in cases { #expect(PathParent.of(path) == parent, "\(path)") }
    }

    @Test func oneLetterOutputsAreWritten() throws {
        let directory = try DataChangeTests.directory("one-letter")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func run(_ tool: String, _ arguments: [String]) throws -> TrainCommandTests.Outcome {
            let process = Process()
            process.executableURL = TrainCommandTests.binary.deletingLastPathComponent().appendingPathComponent(tool)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            return try Executable.collect(process)
        }
        let datagen = try run("datagen", ["--rows", "50", "--out", "d"])
        #expect(datagen.status == 0 && FileManager.default.fileExists(atPath: directory + "/d"), "\(datagen.stderr)")
        let train = try run("train", ["--data", "d", "--epochs", "1", "--out", "r", "--quiet"])
        #expect(train.status == 0 && FileManager.default.fileExists(atPath: directory + "/r/model.safetensors"), "\(train.stderr)")
        let predict = try run("predict", ["--model", "r/model.safetensors", "--data", "d", "--output", "p", "--quiet"])
        #expect(predict.status == 0 && FileManager.default.fileExists(atPath: directory + "/p"), "\(predict.stderr)")
    }
}
