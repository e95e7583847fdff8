import Foundation
import Testing
@testable import MLPTrainer

/// The `datagen` executable as a user runs it: integer labels in every format, the same rows as
/// the library's SyntheticProblem, --class-weights and its errors.
@Suite struct DatagenCommandTests {
    static func generate(_ arguments: [String]) throws -> (TrainCommandTests.Outcome, [Substring]) {
        let out = TrainCommandTests.temporaryPath("datagen") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try Executable.run("datagen", arguments + ["--out", out])
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return (r, text.split(separator: "\n"))
    }

    @Test(arguments: ["higgs", "short"])
    func labelsAreIntegersAndMatchTheLibrary(format: String) throws {
        // 12 classes: one- and two-digit labels.
        let (r, lines) = try Self.generate(["--rows", "600", "--features", "3", "--classes", "12", "--seed", "4", "--format", format])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(lines.first == "x1,x2,x3,label" && lines.count == 601)
        let expected = SyntheticProblem(features: 3, classes: 12, seed: 4).dataset(rows: 600).labels
        #expect(Set(expected) == Set(0..<12))
        #expect(lines.dropFirst().map { $0.split(separator: ",").last! } == expected.map { Substring(String($0)) })
    }

    @Test func classWeightsAskForAnImbalance() throws {
        let (r, lines) = try Self.generate(["--rows", "2000", "--features", "5", "--class-weights", "9,1", "--label", "first", "--no-header"])
        #expect(r.status == 0, "\(r.stderr)")
        let ones = lines.filter { $0.hasPrefix("1,") }.count
        #expect(abs(Double(ones) / 2000 - 0.1) <= 0.03, "\(ones) of 2000 rows are class 1")
    }

    /// As `predict` with its output: an existing --out is kept, unless --force replaces it.
    @Test func anExistingOutIsReplacedOnlyWithForce() throws {
        let out = TrainCommandTests.temporaryPath("datagen-existing") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: out) }
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: out))
        let refused = try Executable.run("datagen", ["--rows", "10", "--out", out])
        #expect(refused.status != 0 && refused.stderr == "datagen: error: --out \(out): already exists; pass --force to replace it\n",
                "\(refused.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me\n")
        let forced = try Executable.run("datagen", ["--rows", "10", "--out", out, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count == 11)
    }

    @Test func badClassWeightsAreRefused() throws {
        let (wrongCount, _) = try Self.generate(["--rows", "10", "--classes", "3", "--class-weights", "1,2"])
        #expect(wrongCount.status != 0 && wrongCount.stderr.contains("--class-weights has 2 weights for 3 classes"))
        let (negative, _) = try Self.generate(["--rows", "10", "--class-weights", "1,-2"])
        #expect(negative.status != 0 && negative.stderr.contains("need positive numbers"))
    }
}
