import Foundation

/// The lines under the classification report: each class's recall at a glance (with the balanced
/// accuracy, their mean), for two classes the ROC AUC and log loss, and with a validation set which
/// epoch's model was kept.
enum ReportSummary {
    static func text(_ report: ClassificationReport, _ result: TrainingResult) -> String {
        lines(report, result).map { $0 + "\n" }.joined()
    }

    static func lines(_ report: ClassificationReport, _ result: TrainingResult) -> [String] {
        let recalls = report.shownClasses.map { "\(report.classLabels[$0]) \(String(format: "%.4f", report.rows[$0].recall))" }
        var out = ["recall per class: " + recalls.joined(separator: ", ") + String(format: " (balanced accuracy %.4f)", report.macro.recall)]
        let summary = result.summary
        if let auc = summary.testRocAuc, let loss = summary.testLogLoss {
            out.append(String(format: "ROC AUC %.4f, log loss %.4f", auc, loss)
                       + (summary.testWeightedLoss.map { String(format: ", class-weighted loss %.4f", $0) } ?? ""))
        }
        if let best = summary.bestEpoch, let metric = summary.config["early_stopping_metric"].flatMap(EarlyStopping.Metric.init) {
            out.append("model of epoch \(best) of \(result.history.count) (best validation \(metric.rawValue) "
                       + (summary.bestValidation(metric).map { String(format: "%.4f", $0) } ?? "n/a") + ")"
                       + (summary.stoppedEarly ? "; stopped early" : ""))
        }
        return out
    }
}
