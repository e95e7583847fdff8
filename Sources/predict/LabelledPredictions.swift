import MLPTrainer

/// What a labelled file's predictions are compared with, window by window, and the report `train`
/// prints for the same rows: scikit-learn's classification report with the recall per class and,
/// for two classes, the ROC AUC and log loss (`ReportSummary`), or the regression report. Rows whose
/// label the model never saw (label -1, `UnseenLabels`) are predicted but left out of the report.
struct LabelledPredictions {
    let checkpoint: Checkpoint
    private var truth: [Int32] = [], predicted: [Int32] = []
    /// Two classes: every reported row's log-probabilities, for the ROC AUC and the log loss.
    private var logProbabilities: [Float] = []
    private var trueValues: [Double] = [], predictedValues: [Double] = []
    /// The labels outside the model's classes, over the windows so far.
    var unseen: UnseenLabels?

    init(checkpoint: Checkpoint) { self.checkpoint = checkpoint }

    private var regression: Bool { checkpoint.targetScaling != nil }
    private var twoClasses: Bool { checkpoint.classLabels.count == 2 }

    mutating func add(_ window: Dataset, _ output: Predictor.Output) {
        if regression {
            trueValues += window.targetValues ?? []
            predictedValues += output.values.map(Double.init)
            return
        }
        for (r, label) in window.labels.enumerated() where label >= 0 {
            truth.append(label)
            predicted.append(output.predictions[r])
            if twoClasses { logProbabilities += output.logProbabilities[2 * r..<2 * r + 2] }
        }
    }

    mutating func add(_ labels: UnseenLabels) {
        if unseen == nil { unseen = labels } else { unseen!.add(labels) }
    }

    /// The note about the rows whose label the model never saw: the first one's place and value, the
    /// rows per label (the first few labels), and what the report counts.
    func unseenNote() -> String? {
        guard let unseen else { return nil }
        let at = unseen.line.map { ":\($0):\(unseen.column)" } ?? ""
        let first = unseen.labels[0].label, shown = 5
        var perLabel = unseen.labels.prefix(shown).map { "'\($0.label)' \($0.rows)" }.joined(separator: ", ")
        if unseen.labels.count > shown { perLabel += ", and \(unseen.labels.count - shown) more labels" }
        let total = unseen.rows + truth.count
        let report = truth.isEmpty ? "no row has a label the model knows, so no report"
            : "the report counts the other \(truth.count) rows"
        return "note: \(unseen.path)\(at): label '\(first)' is not one of the model's classes (\(checkpoint.classLabels.joined(separator: ", "))); "
            + "\(unseen.rows) of \(total) rows have labels it never saw (rows per label: \(perLabel)); they are predicted, and \(report)"
    }

    /// The report, or nil when no row has a label the model knows.
    func report() -> String? {
        if regression { return RegressionReport(truth: trueValues, predicted: predictedValues).text() }
        if truth.isEmpty { return nil }
        let report = ClassificationReport(classLabels: checkpoint.classLabels, truth: truth, predicted: predicted)
        let figures = twoClasses ? ProbabilityFigures(logProbabilities: logProbabilities, labels: truth, classes: 2, classWeights: nil) : nil
        return ReportSummary.classificationText(report, lines: ReportSummary.classificationLines(report, auc: figures?.auc, logLoss: figures?.loss))
    }
}
