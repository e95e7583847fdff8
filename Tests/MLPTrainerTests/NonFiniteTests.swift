import Foundation
import MLPTrainer
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

    /// A finished run whose last output is missing: its resume trains nothing and writes the outputs.
    @Test func resumingAFinishedRunPrintsNoNaNThroughput() throws {
        let out = TrainCommandTests.temporaryPath("finished")
        defer { try? FileManager.default.removeItem(atPath: out) }
        #expect(try TrainCommandTests.run(["--epochs", "2", "--out", out, "--quiet"]).status == 0)
        try FileManager.default.removeItem(atPath: out + "/report.html")
        let r = try TrainCommandTests.run(["--resume", out])
        #expect(r.status == 0 && r.stdout.contains("(0 samples/s)") && !r.stdout.lowercased().contains("nan"), "\(r.stdout)\(r.stderr)")
    }

    @Test(arguments: [
        (["--allow-nonfinite", "--data", "NAN"], "the training data holds NaN or infinite values"),
        (["--activation", "softexp:alpha=100", "--no-batchnorm"], "the network is not finite from the start"),
        (["--optimizer", "sgd", "--lr", "1e30"], "; lower --lr or clip the gradients (--clip-grad-norm 1)\n"),
        (["--optimizer", "sgd", "--lr", "1e30", "--no-standardize"], "lower --lr, clip the gradients (--clip-grad-norm 1) or standardise the features"),
        (["--optimizer", "sgd", "--lr", "1e30", "--clip-grad-norm", "5"], "; lower --lr\n"),
    ]) func nonFiniteLossAdviceFitsTheCause(_ flags: [String], _ advice: String) throws {
        let data = try Self.banknote(nanOnLine: 7)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let out = TrainCommandTests.temporaryPath("nan-advice")
        let r = try TrainCommandTests.run(flags.map { $0 == "NAN" ? data : $0 } + ["--epochs", "3", "--out", out, "--quiet"])
        #expect(r.status != 0 && r.stderr.contains("the training loss became") && r.stderr.contains(advice), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// softexp with alpha > 0 and no normalisation between the blocks: exp of exp of ... overflows
    /// float after about 20 full-batch Adam steps on the bank notes (PyTorch's float32 replay of the
    /// same run from the same weights overflows at the same step).
    static let diverging = ["--data", TrainCommandTests.banknote, "--activation", "softexp:alpha=0.3", "--no-batchnorm", "--dropout", "0",
                            "--batch-size", "full", "--lr", "0.01", "--epochs", "40", "--threads", "2", "--quiet"]

    static func file(_ directory: String, _ name: String) -> Bool { FileManager.default.fileExists(atPath: directory + "/" + name) }

    @Test func aDivergedRunKeepsItsLastFiniteCheckpointAndWritesNoModel() throws {
        let out = TrainCommandTests.temporaryPath("diverged")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrainCommandTests.run(Self.diverging + ["--checkpoint-every", "5", "--out", out])
        #expect(r.status == 1 && r.stderr.contains("the training loss became NaN at epoch ")
                && r.stderr.contains("; lower --lr or normalise the blocks (--norm batch or --norm layer"), "\(r.stderr)")
        for name in ["model.safetensors", "model.onnx", "summary.json", "classification_report.txt"] { #expect(!Self.file(out, name), "\(name)") }
        let state = try TrainingState.load(path: out + "/checkpoint.safetensors")
        #expect(state.epochsCompleted > 0 && state.epochsCompleted % 5 == 0)
        #expect(ModelValidation.nonFiniteTensors(state.checkpoint.model).isEmpty)
        // Resuming repeats the same steps to the same error, and still writes no model.
        let resumed = try TrainCommandTests.run(["--resume", out, "--quiet"])
        #expect(resumed.status == 1 && resumed.stderr == r.stderr, "\(resumed.stderr)")
        #expect(!Self.file(out, "model.safetensors"))
    }

    @Test func aDivergenceAfterTheBestValidationEpochWritesThatEpochsModel() throws {
        let out = TrainCommandTests.temporaryPath("diverged-best")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrainCommandTests.run(Self.diverging + ["--validation-fraction", "0.2", "--early-stopping", "100", "--out", out])
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any]
        let best = try #require(summary?["best_epoch"] as? Int), run = try #require(summary?["epochs_run"] as? Int)
        #expect(r.status == 1 && r.stderr.contains("the training loss became NaN at epoch \(run + 1), ")
                && r.stderr.contains("; wrote the best validation epoch's model (epoch \(best), before the divergence) to \(out)\n"), "\(r.stderr)")
        #expect((summary?["diverged"] as? String)?.hasPrefix("the training loss became NaN at epoch \(run + 1)") == true)
        let model = try Checkpoint.load(path: out + "/model.safetensors").model
        #expect(ModelValidation.nonFiniteTensors(model).isEmpty)
        // The model written is the best epoch's, not the last finite one's: its alpha is metrics.csv's at that epoch.
        let rows = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let column = try #require(rows[0].firstIndex(of: "a1.alpha"))
        let alpha = { (epoch: Int) in rows.first { $0[0] == "\(epoch)" }.flatMap { Float($0[column]) } }
        let written = model.parameters[try #require(model.layout.parameter(named: "a1.alpha")).offset]
        #expect(written == alpha(best) && (best == run || written != alpha(run)),
                "alpha \(written); at epoch \(best) \(String(describing: alpha(best))), at \(run) \(String(describing: alpha(run)))")
        #expect(Self.file(out, "model.onnx") && !Self.file(out, "checkpoint.safetensors"))
    }

    /// One full-batch SGD step of 1e20 leaves finite weights whose outputs overflow: the loss of the
    /// only step was finite, the model's test loss is not.
    @Test func aModelWhoseLastStepOverflowedIsNotWritten() throws {
        let out = TrainCommandTests.temporaryPath("last-step")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrainCommandTests.run(["--data", TrainCommandTests.banknote, "--optimizer", "sgd", "--lr", "1e20", "--epochs", "1",
                                           "--batch-size", "full", "--no-batchnorm", "--out", out, "--quiet"])
        #expect(r.status == 1 && r.stderr.contains("the trained model's test loss is NaN after epoch 1 (its outputs are not finite on some rows)"), "\(r.stderr)")
        #expect(!Self.file(out, "model.safetensors") && !Self.file(out, "summary.json"))
    }

    /// An infinite running variance leaves the training loss finite (training mode uses the batch's
    /// statistics) but every later evaluation broken: the run stops at the end of the epoch.
    @Test func nonFiniteRunningStatisticsStopTheRun() throws {
        let first = TrainCommandTests.temporaryPath("init"), out = TrainCommandTests.temporaryPath("inf-var")
        defer { for p in [first, out] { try? FileManager.default.removeItem(atPath: p) } }
        #expect(try TrainCommandTests.run(["--data", TrainCommandTests.banknote, "--epochs", "1", "--out", first, "--quiet"]).status == 0)
        var checkpoint = try Checkpoint.load(path: first + "/model.safetensors")
        checkpoint.model.buffers[checkpoint.model.layout.buffer(named: "bn2.running_var")!.offset] = .infinity
        try checkpoint.save(to: first + "/inf.safetensors")
        let r = try TrainCommandTests.run(["--data", TrainCommandTests.banknote, "--init", first + "/inf.safetensors", "--epochs", "3",
                                           "--out", out, "--quiet"])
        #expect(r.status == 1 && r.stderr.contains("NaN or infinite values in bn2.running_var at the end of epoch 1 "), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// A run stopped mid-epoch right after a step that made the weights (here BatchNorm's running
/// variance, which the training loss does not read) non-finite: the step's loss was finite, but its
/// state must not replace the last finite checkpoint, nor its model be the result.
@Suite struct NonFiniteInterruptTests {
    @Test func aStopRightAfterTheWeightsOverflowedSavesNothing() throws {
        var s = TrainingSettings()
        s.data = .synthetic(rows: 300, features: 4, classes: 2)
        s.hidden = [8]
        s.epochs = 1
        s.batchSize = 50
        s.threads = 2
        var checkpoint = try TrainingRun(settings: s).run().checkpoint
        let variance = try #require(checkpoint.model.layout.buffers.first { $0.name.hasSuffix("running_var") })
        checkpoint.model.buffers[variance.offset] = .infinity
        let initPath = TrainCommandTests.temporaryPath("inf-var-init") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: initPath) }
        try checkpoint.save(to: initPath)
        s.initPath = initPath
        var saved: [TrainingState] = []
        var control = TrainingControl()
        control.shouldStop = { true }
        control.saveState = { saved.append($0) }
        #expect {
            _ = try TrainingRun(settings: s).run(control: control)
        } throws: { error in
            "\(error)".contains("NaN or infinite values in \(variance.name) after step 1 of epoch 1 (step 1 overall)")
        }
        #expect(saved.count == 0, "states saved: \(saved.map(\.step))")
    }
}
