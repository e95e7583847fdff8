import Foundation

/// The lines under a report: for classification each class's recall at a glance (with the balanced
/// accuracy, their mean) and for two classes the ROC AUC and log loss, as `train` and `predict`
/// print them; with a validation set which epoch's model `train` kept.
public enum ReportSummary {
    /// scikit-learn's report, the lines under it and the confusion matrix: the printed classification
    /// report of `train` and `predict`.
    public static func classificationText(_ report: ClassificationReport, lines: [String]) -> String {
        report.text() + "\n" + lines.map { $0 + "\n" }.joined()
            + "\nConfusion matrix (rows: true class, columns: predicted)\n\n" + report.confusionText()
    }

    /// Recall per class with the balanced accuracy; for two classes (`auc` and `logLoss` given and
    /// finite) the ROC AUC and log loss, and the class-weighted loss when there is one.
    public static func classificationLines(_ report: ClassificationReport, auc: Double?, logLoss: Double?, weightedLoss: Double? = nil) -> [String] {
        let recalls = report.shownClasses.map { "\(report.classLabels[$0]) \(String(format: "%.4f", report.rows[$0].recall))" }
        var out = ["recall per class: " + recalls.joined(separator: ", ") + String(format: " (balanced accuracy %.4f)", report.macro.recall)]
        if let auc, let logLoss, auc.isFinite, logLoss.isFinite {
            out.append(String(format: "ROC AUC %.4f, log loss %.4f", auc, logLoss)
                       + (weightedLoss.map { String(format: ", class-weighted loss %.4f", $0) } ?? ""))
        }
        return out
    }

    /// A finished run's lines: the classification lines of its report set (none for regression),
    /// then which epoch's model was kept.
    static func lines(_ result: TrainingResult) -> [String] {
        let summary = result.summary
        var out = result.report.map {
            classificationLines($0, auc: summary.testRocAuc, logLoss: summary.testLogLoss, weightedLoss: summary.testWeightedLoss)
        } ?? []
        if let best = summary.bestEpoch, let metric = summary.config["early_stopping_metric"].flatMap(EarlyStopping.Metric.init) {
            out.append("model of epoch \(best) of \(result.summary.epochs) (best validation \(metric.rawValue) "
                       + (summary.bestValidation(metric).map { String(format: "%.4f", $0) } ?? "n/a") + ")"
                       + (summary.stoppedEarly ? "; stopped early" : ""))
        }
        return out
    }
}
