import Foundation

/// A run's directory: created when training starts (after the data and flags have been checked, so
/// bad input leaves nothing behind), then filled file by file, each written atomically.
public enum RunWriter {
    /// Creates the run directory (and its parents); it must not exist yet.
    public static func create(_ directory: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory) { throw ArtifactError("\(directory): already exists; choose another --out") }
        do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ArtifactError("\(directory): cannot create (\(error.localizedDescription))")
        }
    }

    /// The training state for --resume, and the metrics so far.
    public static func writeState(_ state: TrainingState, to directory: String) throws {
        try state.save(to: directory + "/" + TrainingState.fileName)
        try AtomicFile.write(metricsCSV(state.history), to: directory + "/metrics.csv")
    }

    /// Every output of a finished (or interrupted) run.
    public static func write(_ result: TrainingResult, to directory: String) throws {
        try result.checkpoint.save(to: directory + "/model.safetensors")
        try AtomicFile.write(ONNXExport.data(result.checkpoint), to: directory + "/" + ONNXExport.fileName)
        try AtomicFile.write(metricsCSV(result.history), to: directory + "/metrics.csv")
        try AtomicFile.write(reportText(result), to: directory + "/classification_report.txt")
        try AtomicFile.write(summaryJSON(result), to: directory + "/summary.json")
        try AtomicFile.write(ReportWriter.lossSVG(result.history, bestEpoch: result.summary.bestEpoch), to: directory + "/loss.svg")
        try AtomicFile.write(ReportWriter.activationParametersSVG(result.history), to: directory + "/activation_params.svg")
        try AtomicFile.write(ReportWriter.html(result), to: directory + "/report.html")
    }

    static func metricsCSV(_ history: [EpochRecord]) -> String {
        let names = history.first?.activationParameters.map(\.name) ?? []
        let validation = ValidationColumns(history)
        var out = (["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr"] + validation.names + names)
            .joined(separator: ",") + "\n"
        func number(_ v: Double?) -> String { v.map { String(format: "%.9g", $0) } ?? "" }
        for r in history {
            let fields = [String(r.epoch), number(r.trainLoss), number(r.testLoss), number(r.trainAccuracy), number(r.testAccuracy),
                          number(r.learningRate)] + validation.values(r).map(number)
                + r.activationParameters.map { String(format: "%.9g", Double($0.value)) }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    public static func reportText(_ result: TrainingResult) -> String {
        "Classification report (\(result.reportSet) set)\n\n" + result.report.text() + "\n" + ReportSummary.text(result)
            + "\nConfusion matrix (rows: true class, columns: predicted)\n\n" + result.report.confusionText()
    }

    static func summaryJSON(_ result: TrainingResult) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Every field is finite or nil (RunSummary), so encoding cannot fail.
        return String(decoding: try! encoder.encode(result.summary), as: UTF8.self) + "\n"
    }
}
