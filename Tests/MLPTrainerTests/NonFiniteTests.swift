import Foundation
import Testing

/// A NaN or an infinity never makes an output unreadable, and the advice for a non-finite loss fits
/// its cause (README, "What the trainer guarantees").
@Suite struct NonFiniteTests {
    static func banknote(nanOnLine line: Int?) throws -> String {
        var lines = try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8).split(separator: "\n").map(String.init)
        if let line { lines[line] = "nan," + lines[line].split(separator: ",").dropFirst().joined(separator: ",") }
        return try TrainCommandTests.writeCSV(lines.joined(separator: "\n") + "\n")
    }

    @Test func aNaNTestLossIsNullInSummaryJSON() throws {
        let train = try Self.banknote(nanOnLine: nil), test = try Self.banknote(nanOnLine: 5)
        let out = TrainCommandTests.temporaryPath("nan-summary")
        defer { for p in [train, test, out] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try TrainCommandTests.run(["--data", train, "--test-data", test, "--allow-nonfinite", "--epochs", "2", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any]
        #expect(summary?["final_test_loss"] is NSNull)
        #expect(summary?["train_rows"] as? Int == 1372)
    }

    @Test func resumingAFinishedRunPrintsNoNaNThroughput() throws {
        let out = TrainCommandTests.temporaryPath("finished")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(try TrainCommandTests.run(["--epochs", "2", "--out", out, "--quiet"]).status == 0)
        let r = try TrainCommandTests.run(["--resume", out])
        #expect(r.status == 0 && r.stdout.contains("(0 samples/s)") && !r.stdout.lowercased().contains("nan"), "\(r.stdout)\(r.stderr)")
    }

    @Test(arguments: [
        (["--allow-nonfinite", "--data", "NAN"], "the training data holds NaN or infinite values"),
        (["--activation", "softexp:alpha=100", "--no-batchnorm"], "the network is not finite from the start"),
        (["--optimizer", "sgd", "--lr", "1e30"], "; lower --lr\n"),
        (["--optimizer", "sgd", "--lr", "1e30", "--no-standardize"], "lower --lr or standardise the features"),
    ]) func nonFiniteLossAdviceFitsTheCause(_ flags: [String], _ advice: String) throws {
        let data = try Self.banknote(nanOnLine: 7)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let out = TrainCommandTests.temporaryPath("nan-advice")
        let r = try TrainCommandTests.run(flags.map { $0 == "NAN" ? data : $0 } + ["--epochs", "3", "--out", out, "--quiet"])
        #expect(r.status != 0 && r.stderr.contains("the training loss became") && r.stderr.contains(advice), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
