/// One epoch's figures on the validation set (`--validation-fraction`, `--validation-data`; README.md,
/// "Imbalanced data, validation and schedules"): what classification's probabilities say, or
/// regression's loss and R^2, MAE and RMSE.
public enum ValidationFigures: Sendable, Equatable {
    case classification(ProbabilityFigures)
    /// The loss on the standardised target (what training minimises) and the figures in the
    /// target's units.
    case regression(loss: Double, report: RegressionReport)

    /// The loss training minimises: with class weights, the weighted one.
    public var loss: Double {
        switch self {
        case let .classification(figures): figures.weightedLoss ?? figures.loss
        case let .regression(loss, _): loss
        }
    }

    public var probabilities: ProbabilityFigures? {
        if case let .classification(figures) = self { figures } else { nil }
    }

    public var regression: RegressionReport? {
        if case let .regression(_, report) = self { report } else { nil }
    }
}
