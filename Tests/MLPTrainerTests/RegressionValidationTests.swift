import Foundation
import Testing
@testable import MLPTrainer

/// Validation and early stopping for `--task regression` (README.md, "Imbalanced data, validation
/// and schedules"): a random validation split, the loss or R^2 picks the kept epoch, the written
/// model is that epoch's, a resumed run keeps the best so far, and the thread count changes no byte.
@Suite struct RegressionValidationTests {
    static let data: String = try! RegressionCommandTests.regressionFile(rows: 600)

    func settings(metric: EarlyStopping.Metric = .r2) -> TrainingSettings {
        var s = TrainingSettings()
        s.data = .csv(path: Self.data)
        s.task = .regression(.mse)
        s.hidden = [16, 8]
        s.epochs = 60
        s.batchSize = 40
        s.threads = 2
        s.shards = 2
        s.seed = 4
        s.optimizer.learningRate = 0.03
        s.validationFraction = 0.25
        s.earlyStopping = EarlyStopping(patience: 4, metric: metric)
        return s
    }

    func modelBytes(_ model: Model) throws -> Data { try Safetensors.encode(Checkpoint.tensors(of: model), metadata: [:]) }

    /// scikit-learn's `r2_score` on small cases (values from scikit-learn 1.x), and R^2 picks the
    /// highest epoch.
    @Test func r2IsScikitLearnsAndHigherIsBetter() {
        #expect(abs(RegressionReport(truth: [3, -0.5, 2, 7], predicted: [2.5, 0, 2, 8]).r2 - 0.9486081370449679) < 1e-15)
        #expect(abs(RegressionReport(truth: [0.5, 1.25, -2, 4, 3.5], predicted: [0.75, 1, -1.5, 3, 3.75]).r2 - 0.9389596602972399) < 1e-15)
        #expect(RegressionReport(truth: [1, 1], predicted: [1, 1]).r2 == 1 && RegressionReport(truth: [1, 1], predicted: [1, 2]).r2 == 0)
        let history = [0.2, 0.7, 0.5].enumerated().map { i, r2 in
            EpochRecord(epoch: i + 1, trainLoss: 1, trainAccuracy: 0, activationParameters: [], learningRate: nil,
                        validation: .regression(loss: 1 - r2, report: RegressionReport(r2: r2, mae: 1, rmse: 1, rows: 4)))
        }
        #expect(EarlyStopping(metric: .r2).best(history)?.epoch == 2)
        #expect(EarlyStopping(patience: 1, metric: .r2).shouldStop(history))
    }

    @Test func theValidationSplitIsRandomAndScikitLearns() throws {
        let run = try TrainingRun(settings: settings())
        // 480 training rows after the 20% test split; train_test_split's ceil(0.25 x 480) held out.
        #expect(run.validation?.rows == 120 && run.train.rows == 360)
    }

    @Test func theWrittenModelIsTheBestValidationEpochs() throws {
        var byEpoch: [Int: Model] = [:]
        var control = TrainingControl()
        control.checkpointEvery = 1
        control.saveState = { byEpoch[$0.epochsCompleted] = $0.checkpoint.model }
        let result = try TrainingRun(settings: settings()).run(control: control)
        let best = try #require(result.summary.bestEpoch)
        #expect(result.summary.stoppedEarly && result.history.count == best + 4, "patience 4 ran out after epoch \(best)")
        let r2 = result.history.map { $0.validation!.regression!.r2 }
        #expect(r2.max() == r2[best - 1] && result.summary.bestValidationR2 == r2[best - 1])
        #expect(result.summary.bestValidationLoss == result.history[best - 1].validation!.loss)
        // Written and read back: the best epoch's weights, not the last epoch's.
        let directory = TrainCommandTests.temporaryPath("regression-best")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try RunWriter.create(directory)
        try RunWriter.write(result, to: directory)
        let written = try Checkpoint.load(path: directory + "/model.safetensors").model
        #expect(try modelBytes(written) == modelBytes(byEpoch[best]!))
        #expect(try modelBytes(written) != modelBytes(byEpoch[result.history.count]!))
        let report = try String(contentsOfFile: directory + "/regression_report.txt", encoding: .utf8)
        #expect(report.contains("model of epoch \(best) of \(result.history.count) (best validation r2 ") && report.contains("; stopped early"))
    }

    @Test func resumeKeepsTheBestSoFarOnAnyThreadCount() throws {
        let whole = try TrainingRun(settings: settings(metric: .loss)).run()
        let best = try #require(whole.summary.bestEpoch)
        // Interrupted two steps into the second epoch after the best (no later epoch beats it).
        var saved: TrainingState?
        var stepsLater = 0
        var control = TrainingControl()
        control.onStep = { epoch, _, _, _ in if epoch == best + 2 { stepsLater += 1 } }
        control.shouldStop = { stepsLater >= 2 }
        control.saveState = { saved = $0 }
        #expect(try TrainingRun(settings: settings(metric: .loss)).run(control: control).interrupted)
        let path = TrainCommandTests.temporaryPath("regression-best-state")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saved!.save(to: path)
        let state = try TrainingState.load(path: path)
        let task = LearningTask.regression(.mse)
        #expect(RunWriter.metricsCSV(state.history, task: task) == RunWriter.metricsCSV(Array(whole.history.prefix(state.epochsCompleted)), task: task))
        #expect(try modelBytes(state.bestModel!) == modelBytes(whole.checkpoint.model))
        var resume = TrainingControl()
        resume.resume = state
        var s = settings(metric: .loss)
        s.threads = 1
        let resumed = try TrainingRun(settings: s).run(control: resume)
        #expect(try modelBytes(resumed.checkpoint.model) == modelBytes(whole.checkpoint.model))
        #expect(RunWriter.metricsCSV(resumed.history, task: task) == RunWriter.metricsCSV(whole.history, task: task))
        #expect(resumed.summary.bestEpoch == best && resumed.summary.stoppedEarly == whole.summary.stoppedEarly)
    }
}
