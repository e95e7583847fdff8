import Foundation
import Testing
@testable import MLPTrainer

/// Issue 14's training options with `--task regression` (README.md, "Imbalanced data, validation
/// and schedules"): the schedule, gradient clipping, validation and early stopping apply as they do
/// to classification; class weights and classification's metrics are refused before anything is
/// written.
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

    /// Validation with early stopping on R^2 through the command: the same bytes for any thread
    /// count, and the outputs carry the validation figures and the kept epoch.
    @Test func validationAndEarlyStoppingKeepTheModelIndependentOfTheThreadCount() throws {
        let data = try RegressionCommandTests.regressionFile(rows: 700)
        defer { try? FileManager.default.removeItem(atPath: data) }
        var models: [Data] = []
        for threads in ["1", "2"] {
            let out = TrainCommandTests.temporaryPath("regression-validation-\(threads)")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try TrainCommandTests.run([
                "--data", data, "--task", "regression", "--epochs", "12", "--batch-size", "64", "--shards", "4", "--lr", "0.01",
                "--validation-fraction", "0.2", "--early-stopping", "3", "--early-stopping-metric", "r2", "--threads", threads, "--out", out,
            ])
            #expect(r.status == 0, "\(r.stderr)")
            models.append(try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors")))
            guard threads == "1" else { continue }
            #expect(r.stdout.contains("448 train rows, 112 validation rows, 140 test rows"), "\(r.stdout)")
            #expect(r.stdout.contains("val loss") && r.stdout.contains("model of epoch ") && r.stdout.contains("(best validation r2 "))
            let summary = try RegressionCommandTests.summary(out)
            for key in ["best_epoch", "epochs_run", "stopped_early", "best_validation_loss", "best_validation_r2"] {
                #expect(summary[key] != nil, "summary.json lacks \(key)")
            }
            #expect(summary["best_validation_accuracy"] == nil && summary["test_recall_per_class"] == nil)
            let header = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).prefix { $0 != "\n" }
            #expect(header.hasPrefix("epoch,train_loss,test_loss,test_r2,test_mae,test_rmse,lr,validation_loss,validation_r2,validation_mae,validation_rmse,"))
            let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
            #expect(html.contains("data-series=\"validation\"") && html.contains("data-marker=\"kept: epoch") && html.contains("R^2 per epoch"))
        }
        #expect(models[1] == models[0])
    }

    /// `--validation-data`: a regression file with its own target values is the validation set.
    @Test func aValidationFileIsTheValidationSet() throws {
        let data = try RegressionCommandTests.regressionFile(rows: 500), validation = try RegressionCommandTests.regressionFile(rows: 150)
        let out = TrainCommandTests.temporaryPath("regression-validation-file")
        defer { for p in [data, validation, out] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try TrainCommandTests.run(["--data", data, "--task", "regression", "--validation-data", validation, "--epochs", "5",
                                           "--threads", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("400 train rows, 150 validation rows, 100 test rows"), "\(r.stdout)")
        let summary = try RegressionCommandTests.summary(out)
        #expect((1...5).contains(summary["best_epoch"] as? Int ?? 0) && summary["stopped_early"] as? Bool == false)
    }

    @Test func classWeightsAndClassificationMetricsAreRefused() throws {
        let data = try RegressionCommandTests.regressionFile(rows: 300)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let refused: [([String], String)] = [
            (["--class-weight", "balanced"], "--class-weight applies to classification only; --task regression has no classes to weigh"),
            (["--validation-fraction", "0.2", "--early-stopping-metric", "accuracy"],
             "--early-stopping-metric accuracy applies to classification only; --task regression stops on loss or r2"),
            (["--validation-data", data, "--early-stopping", "3", "--early-stopping-metric", "auc"], "--early-stopping-metric auc applies to classification only"),
        ]
        for (flags, message) in refused {
            let out = TrainCommandTests.temporaryPath("regression-refused")
            let r = try TrainCommandTests.run(["--data", data, "--task", "regression", "--epochs", "2", "--out", out] + flags)
            #expect(r.status != 0 && r.stderr.hasPrefix("train: error: " + message), "\(flags): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}
