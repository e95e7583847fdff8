import Foundation
import Testing
@testable import MLPTrainer

/// A regression run's saved state (its task, its per-epoch R^2, MAE and RMSE) continues to exactly
/// the model and metrics of the uninterrupted run.
@Suite struct RegressionResumeTests {
    @Test func resumingEqualsTheUninterruptedRun() throws {
        let data = try RegressionCommandTests.regressionFile(rows: 400)
        defer { try? FileManager.default.removeItem(atPath: data) }
        var s = TrainingSettings()
        s.data = .csv(path: data)
        s.task = .regression(.huber)
        s.hidden = [12, 6]
        s.epochs = 4
        s.batchSize = 50
        s.threads = 2
        s.shards = 2
        let whole = try TrainingRun(settings: s).run()
        var saved: TrainingState?
        var steps = 0
        var control = TrainingControl()
        control.onStep = { _, _, _, _ in steps += 1 }
        control.shouldStop = { steps >= 10 }
        control.saveState = { saved = $0 }
        #expect(try TrainingRun(settings: s).run(control: control).interrupted)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try saved!.save(to: path)
        var resume = TrainingControl()
        resume.resume = try TrainingState.load(path: path)
        #expect(resume.resume?.settings.task == .regression(.huber) && resume.resume?.history.first?.testRegression != nil)
        s.threads = 1
        let resumed = try TrainingRun(settings: s).run(control: resume)
        #expect(resumed.checkpoint.model.parameters == whole.checkpoint.model.parameters)
        #expect(RunWriter.metricsCSV(resumed.history, task: s.task) == RunWriter.metricsCSV(whole.history, task: s.task))
        #expect(resumed.regressionReport == whole.regressionReport && whole.regressionReport != nil)
    }
}
