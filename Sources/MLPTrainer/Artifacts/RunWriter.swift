import Foundation

/// Writes a run's outputs into its directory, all or nothing: files go into a temporary sibling
/// directory that is renamed to the destination at the end, so a failure leaves nothing behind.
public enum RunWriter {
    public static func write(_ result: TrainingResult, to directory: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory) {
            throw ArtifactError("\(directory): already exists; choose another --out")
        }
        let parent = (directory as NSString).deletingLastPathComponent
        if !parent.isEmpty { try? fm.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        let staging = directory + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
            try result.checkpoint.save(to: staging + "/model.safetensors")
            try AtomicFile.write(metricsCSV(result.history), to: staging + "/metrics.csv")
            try AtomicFile.write(reportText(result), to: staging + "/classification_report.txt")
            try AtomicFile.write(summaryJSON(result), to: staging + "/summary.json")
            try AtomicFile.write(ReportWriter.lossSVG(result.history), to: staging + "/loss.svg")
            try AtomicFile.write(ReportWriter.activationParametersSVG(result.history), to: staging + "/activation_params.svg")
            try AtomicFile.write(ReportWriter.html(result), to: staging + "/report.html")
            if rename(staging, directory) != 0 {
                throw ArtifactError("\(directory): cannot create (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? fm.removeItem(atPath: staging)
            if error is ArtifactError { throw error }
            throw ArtifactError("\(directory): cannot write outputs (\(error.localizedDescription))")
        }
    }

    static func metricsCSV(_ history: [EpochRecord]) -> String {
        let names = history.first?.activationParameters.map(\.name) ?? []
        var out = (["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy"] + names).joined(separator: ",") + "\n"
        func number(_ v: Double?) -> String { v.map { String(format: "%.9g", $0) } ?? "" }
        for r in history {
            let fields = [String(r.epoch), number(r.trainLoss), number(r.testLoss), number(r.trainAccuracy), number(r.testAccuracy)]
                + r.activationParameters.map { String(format: "%.9g", Double($0.value)) }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    public static func reportText(_ result: TrainingResult) -> String {
        "Classification report (\(result.reportSet) set)\n\n" + result.report.text() + "\nConfusion matrix (rows: true class, columns: predicted)\n\n"
            + result.report.confusionText()
    }

    static func summaryJSON(_ result: TrainingResult) -> String {
        var object: [String: Any] = result.summary
        for key in ["epochs", "train_rows", "test_rows", "threads", "shards", "features", "parameters"] {
            if let v = result.summary[key] { object[key] = Int(v) }
        }
        object["config"] = result.summaryText
        object["class_labels"] = result.checkpoint.classLabels
        object["report_set"] = result.reportSet
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
