import Testing
@testable import MLPTrainer

/// R^2, MAE and RMSE against scikit-learn 1.9.1's `r2_score`, `mean_absolute_error` and
/// `root_mean_squared_error` on the same arrays (float64).
@Suite struct RegressionReportTests {
    @Test func matchesScikitLearn() {
        let report = RegressionReport(truth: [3, -0.5, 2, 7, 4.25, 1e3, -12.5, 0.1], predicted: [2.5, 0, 2, 8, 4, 990, -10, 0.3])
        #expect(abs(report.r2 - 0.9998766550921407) < 1e-14)
        #expect(abs(report.mae - 1.86875) < 1e-14)
        #expect(abs(report.rmse - 3.6717247309677234) < 1e-13)
        #expect(report.rows == 8)
    }

    /// A constant truth: sklearn's force_finite gives 1 for a perfect fit, 0 otherwise.
    @Test func constantTruth() {
        #expect(RegressionReport(truth: [2, 2, 2], predicted: [2, 2, 2]).r2 == 1)
        #expect(RegressionReport(truth: [2, 2, 2], predicted: [2, 2.5, 2]).r2 == 0)
    }

    @Test func printedFigures() {
        let text = RegressionReport(truth: [1, 2, 3, 4], predicted: [1.5, 2, 2.5, 4]).text()
        #expect(text == "R^2   0.9000\nMAE   0.25\nRMSE  0.353553\nrows  4\n")
    }

    @Test func targetScalingIsThePopulationStandardisation() {
        let scaling = TargetScaling(fitting: [1, 2, 3, 4])
        #expect(scaling.mean == 2.5 && abs(scaling.std - 1.118034) < 1e-6)
        #expect(zip(scaling.original(scaling.standardized([1, 4])), [Float(1), 4]).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(TargetScaling(fitting: [5, 5]).std == 1)
    }
}
