import MLPTrainer

/// What a labelled file's predictions are compared with, window by window, and the report `train`
/// prints for the same rows: scikit-learn's classification report with the recall per class and,
/// for two classes, the ROC AUC and log loss (`ReportSummary`), or the regression report.
struct LabelledPredictions {
    let checkpoint: Checkpoint
    private var truth: [Int32] = [], predicted: [Int32] = []
    /// Two classes: every row's log-probabilities, for the ROC AUC and the log loss.
    private var logProbabilities: [Float] = []
    private var trueValues: [Double] = [], predictedValues: [Double] = []

    init(checkpoint: Checkpoint) { self.checkpoint = checkpoint }

    private var regression: Bool { checkpoint.targetScaling != nil }
    private var twoClasses: Bool { checkpoint.classLabels.count == 2 }

    mutating func add(_ window: Dataset, _ output: Predictor.Output) {
        if regression {
            trueValues += window.targetValues ?? []
            predictedValues += output.values.map(Double.init)
        } else {
            truth += window.labels
            predicted += output.predictions
            if twoClasses { logProbabilities += output.logProbabilities }
        }
    }

    func report() -> String {
        if regression { return RegressionReport(truth: trueValues, predicted: predictedValues).text() }
        let report = ClassificationReport(classLabels: checkpoint.classLabels, truth: truth, predicted: predicted)
        let figures = twoClasses ? ProbabilityFigures(logProbabilities: logProbabilities, labels: truth, classes: 2, classWeights: nil) : nil
        return ReportSummary.classificationText(report, lines: ReportSummary.classificationLines(report, auc: figures?.auc, logLoss: figures?.loss))
    }
}
