import Foundation
import Testing
@testable import MLPTrainer

/// `train --task regression`, `predict` and `datagen --task regression` as a user runs them: the
/// outputs, the report's figures, thread-count determinism, and bad input.
@Suite struct RegressionCommandTests {
    /// A regression file of `rows` rows and 5 features from datagen (written once per call; --force
    /// for a shared path that each run of the suite rewrites, `ValidationAndEarlyStoppingTests`).
    static func regressionFile(rows: Int = 1200, path: String = TrainCommandTests.temporaryPath("regression") + ".csv") throws -> String {
        let r = try Executable.run("datagen", ["--task", "regression", "--rows", "\(rows)", "--features", "5", "--format", "short",
                                               "--out", path, "--force"])
        #expect(r.status == 0, "\(r.stderr)")
        return path
    }

    static func summary(_ out: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/summary.json"))) as! [String: Any]
    }

    @Test func datagenWritesAContinuousTarget() throws {
        let data = try Self.regressionFile(rows: 300)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let lines = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "x1,x2,x3,x4,x5,label" && lines.count == 301)
        let targets = lines.dropFirst().map { Double($0.split(separator: ",").last!)! }
        #expect(Set(targets).count == 300 && targets.contains { $0 != $0.rounded() })
    }

    @Test func trainWritesTheRegressionReportEverywhere() throws {
        let data = try Self.regressionFile()
        let out = TrainCommandTests.temporaryPath("regression-run")
        defer { for p in [data, out] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try TrainCommandTests.run(["--data", data, "--task", "regression", "--loss", "huber", "--epochs", "40", "--lr", "0.01",
                                           "--hidden", "32,16", "--dropout", "0", "--threads", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Regression report (test set)") && r.stdout.contains("R^2 ") && !r.stdout.contains("precision"))
        #expect(!r.stdout.contains("note:"))
        let summary = try Self.summary(out)
        let r2 = summary["test_r2"] as! Double, mae = summary["test_mae"] as! Double, rmse = summary["test_rmse"] as! Double
        #expect(r2 > 0.3 && r2 < 1 && mae > 0 && rmse >= mae, "R^2 \(r2), MAE \(mae), RMSE \(rmse)")
        #expect(summary["task"] as? String == "regression" && summary["test_accuracy"] is NSNull)
        let report = try String(contentsOfFile: "\(out)/regression_report.txt", encoding: .utf8)
        #expect(report.contains(String(format: "R^2   %.4f", r2)))
        let metrics = try String(contentsOfFile: "\(out)/metrics.csv", encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 41 && metrics[0].hasPrefix("epoch,train_loss,test_loss,test_r2,test_mae,test_rmse,lr,a1.beta"))
        let last = metrics[40].split(separator: ",").map { Double($0)! }
        #expect(abs(last[3] - r2) < 1e-8 && abs(last[5] - rmse) < 1e-6 * rmse)
        let html = try String(contentsOfFile: "\(out)/report.html", encoding: .utf8)
        #expect(html.contains("Predicted vs true (test set)") && html.contains("data-series=\"rows\"") && !html.contains("Confusion matrix"))
        #expect(html.contains("Test R^2 per epoch"))
        // predict: the prediction in the target's units and, with the target column, the same figures.
        let predictions = out + "/predictions.csv"
        let p = try Executable.run("predict", ["--model", "\(out)/model.safetensors", "--data", data, "--output", predictions])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stdout.contains("R^2 ") && p.stdout.contains("rows  1200"))
        let rows = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "predicted" && rows.count == 1201 && rows.dropFirst().allSatisfy { Double($0) != nil })
    }

    /// The loss sums go through the collective's shard tree: any thread count, the same model file.
    @Test func anyThreadCountGivesTheSameModel() throws {
        let data = try Self.regressionFile(rows: 700)
        defer { try? FileManager.default.removeItem(atPath: data) }
        var models: [Data] = []
        for threads in [1, 2, 5] {
            let out = TrainCommandTests.temporaryPath("regression-threads")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try TrainCommandTests.run(["--data", data, "--task", "regression", "--epochs", "3", "--batch-size", "256",
                                               "--shards", "4", "--threads", "\(threads)", "--out", out, "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
            models.append(try Data(contentsOf: URL(fileURLWithPath: "\(out)/model.safetensors")))
        }
        #expect(models.count == 3 && models.allSatisfy { $0 == models[0] })
    }

    /// Regression defaults to no dropout (the seed's 0.4 costs most of the fit); `--dropout` and
    /// `--preset seed` still set it. `TrainingSettings` built in code has the same default (it had
    /// the classifier's 0.4 when only `train` chose none for regression).
    @Test func regressionDefaultsToNoDropout() throws {
        let data = try Self.regressionFile(rows: 300)
        defer { try? FileManager.default.removeItem(atPath: data) }
        for (flags, dropout) in [([String](), "0.0"), (["--dropout", "0.2"], "0.2"), (["--preset", "seed"], "0.4")] {
            let out = TrainCommandTests.temporaryPath("regression-dropout")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try TrainCommandTests.run(["--data", data, "--task", "regression", "--epochs", "1", "--threads", "1", "--out", out] + flags)
            #expect(r.status == 0 && r.stdout.contains(", dropout \(dropout)\n"), "\(flags): \(r.stdout.prefix(400)) \(r.stderr)")
        }
        var s = TrainingSettings()
        (s.data, s.task, s.epochs) = (.csv(path: data), .regression(.mse), 1)
        #expect(try TrainingRun(settings: s).run().checkpoint.model.config.dropout == 0)
        #expect(TrainingSettings().resolvedDropout == 0.4 && TrainingSettings.seedPreset.resolvedDropout == 0.4)
    }

    @Test func aTargetThatIsNotANumberIsAnErrorNamingItsPlace() throws {
        let data = TrainCommandTests.temporaryPath("bad-target") + ".csv"
        let out = TrainCommandTests.temporaryPath("bad-target-run")
        defer { try? FileManager.default.removeItem(atPath: data) }
        try "a,y,b\n1,2.5,3\n2,3.5,4\n\n3,lots,5\n4,1.25,6\n".write(toFile: data, atomically: true, encoding: .utf8)
        let r = try TrainCommandTests.run(["--data", data, "--target", "y", "--task", "regression", "--out", out])
        #expect(r.status != 0)
        #expect(r.stderr == "train: error: \(data):5:2: target \"lots\" in column 'y' is not a number (--task regression needs a numeric target)\n")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// The target is read as label texts: beyond 2^20 distinct values (each chunk of the parallel
    /// parser below it, the file above) the load stops at the line of the first one too many.
    @Test func moreDistinctTargetsThanTheParserHoldsAreNamed() throws {
        let path = TrainCommandTests.temporaryPath("many-targets") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rows = (1 << 20) + 10
        var text = "x,y\n"
        text.reserveCapacity(rows * 18)
        for i in 0..<rows { text += "1,\(i).5\n" }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: DataError("\(path):\((1 << 20) + 2):2: too many distinct labels in column 'y' (more than 1048576; is it a class column?)")) {
            try loadCSV(path: path, options: CSVOptions(threads: 2, chunkBytes: 1 << 20), numericTarget: true)
        }
    }

    @Test func lossIsOnlyForRegressionAndContinuousLabelsSuggestIt() throws {
        let r = try TrainCommandTests.run(["--loss", "huber", "--epochs", "1"])
        #expect(r.status != 0 && r.stderr.contains("--loss huber applies to --task regression only"))
        let data = try Self.regressionFile(rows: 600)
        let out = TrainCommandTests.temporaryPath("classified-measurements")
        defer { for p in [data, out] { try? FileManager.default.removeItem(atPath: p) } }
        // 600 distinct values are within the class limit: classified, with a note suggesting regression.
        let classified = try TrainCommandTests.run(["--data", data, "--epochs", "1", "--out", out])
        #expect(classified.stdout.contains("it looks continuous") && classified.stdout.contains("use --task regression"))
    }
}
