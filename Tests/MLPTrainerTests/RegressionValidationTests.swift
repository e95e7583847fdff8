import Foundation
import Testing
@testable import MLPTrainer

/// Validation for `--task regression` (README.md, "Imbalanced data, validation and schedules"): R^2
/// as scikit-learn computes it picks the kept epoch, and the validation rows are a random split.
/// (The kept model and resume: `ValidationAndEarlyStoppingTests`, with both tasks.)
@Suite struct RegressionValidationTests {
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
        let run = try TrainingRun(settings: ValidationAndEarlyStoppingTests().settings(.regression))
        // 480 training rows after the 20% test split; train_test_split's ceil(0.25 x 480) held out.
        #expect(run.validation?.rows == 120 && run.train.rows == 360)
    }

    /// The checkpoint's history keeps each epoch's validation figures bit for bit, with and without a
    /// test set, and a classification epoch stays one.
    @Test func theCheckpointHistoryKeepsTheValidationFigures() throws {
        let report = RegressionReport(r2: 0.1 + 0.2, mae: 1.0 / 3, rmse: .pi, rows: 7)
        let records = [
            EpochRecord(epoch: 1, trainLoss: 0.7, trainAccuracy: 0, activationParameters: [], learningRate: 0.01,
                        validation: .regression(loss: 0.3, report: report)),
            EpochRecord(epoch: 2, trainLoss: 0.6, trainAccuracy: 0, testLoss: 0.5, testRegression: RegressionReport(r2: -2, mae: 4, rmse: 5, rows: 3),
                        activationParameters: [], learningRate: 0.01, validation: .regression(loss: 0.25, report: report)),
            EpochRecord(epoch: 3, trainLoss: 0.6, trainAccuracy: 0.5, activationParameters: [], learningRate: 0.01,
                        validation: .classification(ProbabilityFigures(loss: 0.2, weightedLoss: nil, accuracy: 0.9, auc: 0.95))),
        ]
        let parsed = try TrainingState.parseHistory(TrainingState.exactHistory(records), "checkpoint")
        #expect(parsed.map(\.validation) == records.map(\.validation))
        #expect(parsed.map(\.testRegression) == records.map(\.testRegression) && parsed.map(\.testLoss) == records.map(\.testLoss))
    }
}
