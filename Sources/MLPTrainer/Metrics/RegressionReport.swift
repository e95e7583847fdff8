import Foundation

/// The regression figures as scikit-learn computes them, in double: `r2_score` (1 - SS_res / SS_tot;
/// with a constant truth, 1 for a perfect fit and 0 otherwise, sklearn's `force_finite`),
/// `mean_absolute_error` and `root_mean_squared_error`, in the target's units.
public struct RegressionReport: Sendable, Equatable {
    public let r2: Double
    public let mae: Double
    public let rmse: Double
    public let rows: Int

    public init(r2: Double, mae: Double, rmse: Double, rows: Int) {
        self.r2 = r2
        self.mae = mae
        self.rmse = rmse
        self.rows = rows
    }

    public init(truth: [Double], predicted: [Double]) {
        precondition(truth.count == predicted.count)
        let n = Double(max(truth.count, 1))
        let mean = truth.reduce(0, +) / n
        var squared = 0.0, absolute = 0.0, total = 0.0
        for (t, p) in zip(truth, predicted) {
            squared += (t - p) * (t - p)
            absolute += abs(t - p)
            total += (t - mean) * (t - mean)
        }
        r2 = total != 0 ? 1 - squared / total : (squared == 0 ? 1 : 0)
        mae = absolute / n
        rmse = (squared / n).squareRoot()
        rows = truth.count
    }

    /// The figures as printed: R^2 to 4 decimals, the errors to 6 significant digits, the rows.
    public var figures: [(name: String, value: String)] {
        [("R^2", String(format: "%.4f", r2)), ("MAE", String(format: "%.6g", mae)), ("RMSE", String(format: "%.6g", rmse)),
         ("rows", String(rows))]
    }

    /// The printed report: one figure per line.
    public func text() -> String {
        figures.map { $0.name.padding(toLength: 6, withPad: " ", startingAt: 0) + $0.value }.joined(separator: "\n") + "\n"
    }
}
