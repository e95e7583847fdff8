/// What the network learns (README.md, "Regression"): classes, through log-softmax and the
/// negative log-likelihood, or a number, through one output unit and a loss on the target
/// standardised with the training rows' mean and std (`TargetScaling`).
public enum LearningTask: Sendable, Equatable, Codable {
    case classification
    case regression(RegressionLoss)

    public var isRegression: Bool { self != .classification }

    /// Dropout when none is asked for (`TrainingSettings.dropout` nil, `train` without `--dropout`):
    /// the seed's 0.4 suits its classifier; on a regression target it costs most of the fit
    /// (README.md, "Regression"), so regression has none, as scikit-learn's.
    public var defaultDropout: Float { isRegression ? 0 : 0.4 }

    /// `classification`, `regression` (summary.json, the checkpoint's `task`).
    public var name: String { (isRegression ? Name.regression : .classification).rawValue }

    /// The choice of `--task` (train, datagen).
    public enum Name: String, CaseIterable, Sendable { case classification, regression }

    /// The regression loss, nil for classification.
    public var regressionLoss: RegressionLoss? {
        if case let .regression(loss) = self { return loss }
        return nil
    }

    /// From the checkpoint's `task` and `loss` metadata (a file without `task` classifies).
    public init?(name: String?, loss: String?) {
        switch name {
        case nil, "classification": self = .classification
        case "regression":
            guard let loss = RegressionLoss(rawValue: loss ?? "") else { return nil }
            self = .regression(loss)
        default: return nil
        }
    }
}

/// The regression loss on the standardised target, averaged over the batch's rows as PyTorch's
/// `MSELoss()` and `HuberLoss(delta=1)` define it.
public enum RegressionLoss: String, Sendable, Codable, CaseIterable {
    case mse, huber
}
