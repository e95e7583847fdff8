import Foundation
import Testing
@testable import MLPTrainer

/// Validation, early stopping and the kept model (README.md, "Imbalanced data, validation and
/// schedules"): the written model is the best validation epoch's, a resumed run keeps the best so far
/// (for classification and regression), the options keep the thread-count determinism, and bad
/// values are refused.
@Suite struct ValidationAndEarlyStoppingTests {
    /// Classification with class weights (the weighted loss picks the kept epoch), and regression
    /// (its validation R^2 does).
    enum Task: CaseIterable { case classification, regression }

    /// Shared by the tests and never deleted (no test owns it), so it has a fixed name: each run of
    /// the suite rewrites the same bytes (datagen writes atomically) instead of leaving a new file.
    static let regressionData: String = try! RegressionCommandTests.regressionFile(
        rows: 600, path: FileManager.default.temporaryDirectory.appendingPathComponent("mlp-tests-validation-regression.csv").path)

    func settings(_ task: Task) -> TrainingSettings {
        var s = TrainingSettings()
        s.hidden = [16, 8]
        s.epochs = 60
        s.batchSize = 50
        s.threads = 2
        s.shards = 2
        s.seed = 4
        s.optimizer.learningRate = 0.03
        s.validationFraction = 0.25
        switch task {
        case .classification:
            s.data = .synthetic(rows: 800, features: 4, classes: 2)
            s.earlyStopping = EarlyStopping(patience: 4)
            s.classWeight = .given(["1": 2])
        case .regression:
            s.data = .csv(path: Self.regressionData)
            s.task = .regression(.mse)
            s.earlyStopping = EarlyStopping(patience: 4, metric: .r2)
        }
        return s
    }

    func modelBytes(_ model: Model) throws -> Data { try Safetensors.encode(Checkpoint.tensors(of: model), metadata: [:]) }

    @Test(arguments: Task.allCases) func theWrittenModelIsTheBestValidationEpochs(task: Task) throws {
        var byEpoch: [Int: Model] = [:]
        var control = TrainingControl()
        control.checkpointEvery = 1
        control.saveState = { byEpoch[$0.epochsCompleted] = $0.checkpoint.model }
        let settings = settings(task)
        let result = try TrainingRun(settings: settings).run(control: control)
        let best = try #require(result.summary.bestEpoch)
        #expect(result.summary.stoppedEarly && result.history.count == best + 4, "patience 4 ran out after epoch \(best)")
        #expect(result.summary.epochsRun == result.history.count)
        let metric = settings.earlyStopping.metric
        let values = result.history.map { metric.value($0.validation!)! }
        #expect((metric == .r2 ? values.max() : values.min()) == values[best - 1] && result.summary.bestValidation(metric) == values[best - 1])
        #expect(task == .regression || result.summary.bestValidationLoss == result.history[best - 1].validation?.probabilities?.weightedLoss)
        // Written and read back: the best epoch's weights, not the last epoch's.
        let directory = TrainCommandTests.temporaryPath("best")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try RunWriter.create(directory)
        try RunWriter.write(result, to: directory)
        let written = try Checkpoint.load(path: directory + "/model.safetensors").model
        #expect(try modelBytes(written) == modelBytes(byEpoch[best]!))
        #expect(try modelBytes(written) != modelBytes(byEpoch[result.history.count]!))
        let report = try String(contentsOfFile: directory + "/\(settings.task.name)_report.txt", encoding: .utf8)
        #expect(report.contains("model of epoch \(best) of \(result.history.count) (best validation \(metric.rawValue) ")
                && report.contains("; stopped early"))
    }

    @Test(arguments: Task.allCases) func resumeKeepsTheBestSoFar(task: Task) throws {
        let whole = try TrainingRun(settings: settings(task)).run()
        let best = whole.summary.bestEpoch!
        // Interrupted two steps into the second epoch after the best (no later epoch beats it).
        var saved: TrainingState?
        var stepsLater = 0
        var control = TrainingControl()
        control.onStep = { epoch, _, _, _ in if epoch == best + 2 { stepsLater += 1 } }
        control.shouldStop = { stepsLater >= 2 }
        control.saveState = { saved = $0 }
        #expect(try TrainingRun(settings: settings(task)).run(control: control).interrupted)
        let path = TrainCommandTests.temporaryPath("best-state")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saved!.save(to: path)
        let state = try TrainingState.load(path: path)
        #expect(state.epochsCompleted > best && state.batchesInEpoch > 0)
        #expect(try modelBytes(state.bestModel!) == modelBytes(whole.checkpoint.model))
        var resume = TrainingControl()
        resume.resume = state
        var s = settings(task)
        s.threads = 1
        let resumed = try TrainingRun(settings: s).run(control: resume)
        #expect(try modelBytes(resumed.checkpoint.model) == modelBytes(whole.checkpoint.model))
        #expect(RunWriter.metricsCSV(resumed.history, task: s.task) == RunWriter.metricsCSV(whole.history, task: s.task))
        #expect(resumed.summary.stoppedEarly && resumed.summary.bestEpoch == best)
    }

    @Test func theValidationSplitIsStratified() {
        let labels = (0..<1000).map { Int32($0 % 10 == 0 ? 1 : 0) }
        let held = StratifiedHoldout.rows(labels: labels, classes: 2, fraction: 0.2, seed: 33)
        #expect(held.count == 200 && held.filter { labels[$0] == 1 }.count == 20)
        #expect(held == held.sorted() && Set(held).count == held.count)
        #expect(StratifiedHoldout.rows(labels: labels, classes: 2, fraction: 0.2, seed: 34) != held)
    }

    /// Through the command: every option at once writes the same bytes for any thread count, and
    /// the outputs carry the validation figures, the rate per epoch and the kept epoch.
    @Test func everyOptionKeepsTheModelIndependentOfTheThreadCount() throws {
        var models: [Data] = []
        for threads in ["1", "2", "3"] {
            let out = TrainCommandTests.temporaryPath("options-\(threads)")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try TrainCommandTests.run([
                "--data", "synthetic:1500x4x2", "--epochs", "12", "--shards", "4", "--batch-size", "200", "--threads", threads,
                "--class-weight", "0=1,1=3", "--validation-fraction", "0.2", "--early-stopping", "3", "--lr-schedule", "cosine",
                "--warmup-epochs", "2", "--clip-grad-norm", "0.5", "--out", out,
            ])
            #expect(r.status == 0, "\(r.stderr)")
            models.append(try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors")))
            guard threads == "1" else { continue }
            #expect(r.stdout.contains("val loss") && r.stdout.contains("recall per class: 0 ") && r.stdout.contains("ROC AUC"))
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
            for key in ["best_epoch", "epochs_run", "stopped_early", "best_validation_loss", "test_roc_auc", "test_log_loss",
                        "test_weighted_loss", "test_balanced_accuracy", "test_recall_per_class"] {
                #expect(summary[key] != nil, "summary.json lacks \(key)")
            }
            let header = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).prefix { $0 != "\n" }
            #expect(header.hasPrefix("epoch,train_loss,test_loss,train_accuracy,test_accuracy,lr,validation_loss,validation_accuracy,validation_weighted_loss,validation_auc,"))
            let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
            #expect(html.contains("data-series=\"validation\"") && html.contains("data-marker=\"kept: epoch")
                    && html.contains("Learning rate per epoch"))
        }
        #expect(models[1] == models[0] && models[2] == models[0])
    }

    /// A run that stops early between logged epochs still prints its last epoch's line.
    @Test func anEarlyStopPrintsTheLastEpoch() throws {
        let out = TrainCommandTests.temporaryPath("early-stop-log")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrainCommandTests.run(["--data", "synthetic:600x4x2", "--epochs", "1000", "--log-every", "500", "--lr", "0.05",
                                           "--validation-fraction", "0.2", "--early-stopping", "2", "--threads", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
        let last = try #require(summary["epochs_run"] as? Int)
        #expect(summary["stopped_early"] as? Bool == true && last < 500, "stopped after \(last) epochs")
        let logged = r.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.map { $0.split(separator: " ")[1] }
        #expect(logged == ["1", "\(last)"])
    }

    /// `--validation-data`: the file is read with the training file's columns and classes, and its
    /// rows are the validation set (the training rows are all kept).
    @Test func aValidationFileIsTheValidationSet() throws {
        let train = TrainCommandTests.temporaryPath("train") + ".csv", validation = TrainCommandTests.temporaryPath("validation") + ".csv"
        let out = TrainCommandTests.temporaryPath("validation-run")
        defer { for p in [train, validation, out] { try? FileManager.default.removeItem(atPath: p) } }
        for (path, rows, seed) in [(train, "600", "1"), (validation, "150", "1")] {
            let made = try Executable.run("datagen", ["--rows", rows, "--features", "4", "--seed", seed, "--format", "short", "--out", path])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let r = try TrainCommandTests.run(["--data", train, "--validation-data", validation, "--epochs", "8", "--threads", "2", "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("480 train rows, 150 validation rows, 120 test rows"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
        #expect((1...8).contains(summary["best_epoch"] as? Int ?? 0) && summary["stopped_early"] as? Bool == false)
    }

    @Test func classWeightsRaiseTheMinorityRecall() throws {
        let csv = TrainCommandTests.temporaryPath("imbalanced") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: csv) }
        let made = try Executable.run("datagen", ["--rows", "8000", "--features", "6", "--class-weights", "19,1", "--format", "short", "--out", csv])
        #expect(made.status == 0, "\(made.stderr)")
        func minorityRecall(_ flags: [String]) throws -> Double {
            let out = TrainCommandTests.temporaryPath("imbalanced-run")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let r = try TrainCommandTests.run(["--data", csv, "--epochs", "30", "--lr", "0.01", "--threads", "2", "--quiet", "--out", out] + flags)
            #expect(r.status == 0, "\(r.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
            return (summary["test_recall_per_class"] as! [String: Double])["1"]!
        }
        let plain = try minorityRecall([]), balanced = try minorityRecall(["--class-weight", "balanced"])
        #expect(plain < 0.3 && balanced > 0.6, "minority recall \(plain) unweighted, \(balanced) balanced")
    }

    @Test(arguments: [
        (["--early-stopping", "5"], "--early-stopping needs a validation set"),
        (["--early-stopping-metric", "auc"], "--early-stopping-metric needs a validation set"),
        (["--validation-fraction", "1.5"], "--validation-fraction must be in (0, 1)"),
        (["--validation-fraction", "0.2", "--validation-data", "x.csv"], "give one of them"),
        (["--validation-fraction", "0.2", "--early-stopping", "0"], "--early-stopping must be at least 1"),
        (["--validation-fraction", "0.2", "--early-stopping-metric", "f1"], "f1"),
        (["--data", "synthetic:300x4x3", "--validation-fraction", "0.2", "--early-stopping-metric", "auc"], "auc needs two classes"),
        (["--validation-fraction", "0.2", "--early-stopping-metric", "r2"],
         "--early-stopping-metric r2 applies to --task regression only; classification stops on loss, accuracy or auc"),
        (["--lr-schedule", "step:0,0.5"], "step:EVERY,GAMMA"),
        (["--lr-schedule", "plateau:3,2"], "plateau:PATIENCE,FACTOR"),
        (["--lr-schedule", "linear"], "unknown --lr-schedule 'linear'"),
        (["--lr-schedule", "onecycle", "--warmup-epochs", "3"], "onecycle warms up by itself"),
        (["--warmup-epochs", "400"], "--warmup-epochs must be in 0..<300"),
        (["--clip-grad-norm", "0"], "--clip-grad-norm must be a positive number"),
        (["--class-weight", "0=-1"], "positive weights"),
        (["--class-weight", "0=2,0=3"], "label '0' is given twice"),
        (["--class-weight", "cat=2"], "no class 'cat' in the data"),
    ])
    func badValuesAreRefusedWithNothingWritten(arguments: [String], message: String) throws {
        let out = TrainCommandTests.temporaryPath("bad-option")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrainCommandTests.run(arguments + ["--epochs", arguments.contains("--warmup-epochs") ? "300" : "2", "--out", out])
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
