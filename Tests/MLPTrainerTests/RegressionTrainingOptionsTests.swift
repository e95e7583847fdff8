import Foundation
import Testing
@testable import MLPTrainer

/// Issue 14's training options with `--task regression` (README.md, "Imbalanced data, validation
/// and schedules"): the schedule and gradient clipping apply as they do to classification; class
/// weights, validation and early stopping are refused before anything is written.
@Suite struct RegressionTrainingOptionsTests {
    @Test func scheduleAndClippingTrainARegressionDeterministically() throws {
        let data = try RegressionCommandTests.regressionFile(rows: 700)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let common = ["--data", data, "--task", "regression", "--epochs", "6", "--batch-size", "64", "--shards", "4", "--lr", "0.01",
                      "--quiet"]
        let options = ["--lr-schedule", "cosine", "--warmup-epochs", "1", "--clip-grad-norm", "0.05"]
        var models: [Data] = []
        var lastMetrics = ""
        for (extra, threads) in [(options, 1), (options, 2), ([], 2)] {
            let out = TrainCommandTests.temporaryPath("regression-options")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try TrainCommandTests.run(common + extra + ["--threads", "\(threads)", "--out", out])
            #expect(r.status == 0, "\(r.stderr)")
            models.append(try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")))
            if !extra.isEmpty { lastMetrics = try String(contentsOfFile: "\(out)/metrics.csv", encoding: .utf8) }
        }
        #expect(models.count == 3 && models[0] == models[1], "the thread count changed the model")
        #expect(models[0] != models[2], "the schedule and clipping changed nothing")
        // The lr column is the schedule's rate per epoch, as for classification.
        let rows = lastMetrics.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let column = try #require(rows.first?.firstIndex(of: "lr"))
        let rates = rows.dropFirst().map { Double($0[column])! }
        let expected = (1...6).map {
            LearningRateSchedule.cosine.learningRate(epoch: $0, of: 6, base: 0.01, warmup: 1, monitored: [])
        }
        #expect(rates.count == 6 && zip(rates, expected).allSatisfy { abs($0 - $1) <= 1e-9 * $1 }, "\(rates) vs \(expected)")
    }

    @Test func classWeightsValidationAndEarlyStoppingAreRefused() throws {
        let data = try RegressionCommandTests.regressionFile(rows: 300)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let refused: [([String], String)] = [
            (["--class-weight", "balanced"], "--class-weight applies to classification only; --task regression has no classes to weigh"),
            (["--validation-fraction", "0.2"], "--validation-fraction, --validation-data and --early-stopping apply to classification only"),
            (["--validation-data", data, "--early-stopping", "3"], "--validation-fraction, --validation-data and --early-stopping apply"),
        ]
        for (flags, message) in refused {
            let out = TrainCommandTests.temporaryPath("regression-refused")
            let r = try TrainCommandTests.run(["--data", data, "--task", "regression", "--epochs", "2", "--out", out] + flags)
            #expect(r.status != 0 && r.stderr.hasPrefix("train: error: " + message), "\(flags): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
