/// Validation during training (`--validation-fraction`, `--validation-data`): after each epoch the
/// validation set's figures are recorded; the best epoch by `metric` is kept and becomes the written
/// model whether or not training stopped early; with a `patience`, training stops after that many
/// epochs without improvement (Keras' EarlyStopping with min_delta 0 and restore_best_weights, but
/// restoring always).
public struct EarlyStopping: Sendable, Equatable, Codable {
    /// `--early-stopping-metric`: the loss for either task, accuracy and ROC AUC for classification,
    /// R^2 for regression.
    public enum Metric: String, Sendable, CaseIterable, Codable {
        /// The validation loss: with class weights, the weighted one (what training minimises).
        case loss
        case accuracy
        /// ROC AUC, for two classes.
        case auc
        /// R^2 as scikit-learn's `r2_score` computes it (`RegressionReport`).
        case r2

        var higherIsBetter: Bool { self != .loss }

        public func value(_ figures: ValidationFigures) -> Double? {
            switch self {
            case .loss: figures.loss
            case .accuracy: figures.probabilities?.accuracy
            case .auc: figures.probabilities?.auc
            case .r2: figures.regression?.r2
            }
        }

        /// Refuses a metric the task does not have.
        func check(for task: LearningTask) throws {
            switch (self, task.isRegression) {
            case (.accuracy, true), (.auc, true):
                throw ConfigError("--early-stopping-metric \(rawValue) applies to classification only; --task regression stops on loss or r2")
            case (.r2, false):
                throw ConfigError("--early-stopping-metric r2 applies to --task regression only; classification stops on loss, accuracy or auc")
            default: return
            }
        }
    }

    /// Epochs without improvement before stopping; nil: run every epoch (the best is still kept).
    public var patience: Int?
    public var metric = Metric.loss

    public init(patience: Int? = nil, metric: Metric = .loss) {
        self.patience = patience
        self.metric = metric
    }

    /// Whether `value` is better than `best` (strictly; NaN never is).
    func improves(_ value: Double?, on best: Double?) -> Bool {
        guard let value, !value.isNaN else { return false }
        guard let best else { return true }
        return metric.higherIsBetter ? value > best : value < best
    }

    /// The best epoch of `history` (the first to reach the best value) and its value.
    public func best(_ history: [EpochRecord]) -> (epoch: Int, value: Double)? {
        var best: (epoch: Int, value: Double)?
        for record in history {
            let value = record.validation.flatMap(metric.value)
            if improves(value, on: best?.value) { best = (record.epoch, value!) }
        }
        return best
    }

    /// True when the last `patience` epochs of `history` did not improve on the best.
    public func shouldStop(_ history: [EpochRecord]) -> Bool {
        guard let patience, let last = history.last else { return false }
        return last.epoch - (best(history)?.epoch ?? 0) >= patience
    }
}
