import Foundation

/// A run's directory: created when training starts (after the data and flags have been checked, so
/// bad input leaves nothing behind), then filled file by file, each written atomically.
public enum RunWriter {
    /// Creates the run directory (and its parents), which must not exist yet, and locks it for this
    /// process (the lock is held while the returned value lives).
    public static func create(_ directory: String) throws -> RunDirectoryLock {
        let parent = PathParent.of(directory)
        do {
            if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        } catch {
            throw ArtifactError("\(directory): cannot create (\(error.localizedDescription))")
        }
        // mkdir, not FileManager's createDirectory (which accepts an existing directory): of two
        // processes racing for one --out, exactly one creates it.
        guard mkdir(directory, 0o755) == 0 else {
            if errno == EEXIST { throw ArtifactError("\(directory): already exists; choose another --out") }
            throw ArtifactError("\(directory): cannot create (\(String(cString: strerror(errno))))")
        }
        return try RunDirectoryLock(directory)
    }

    /// The training state for --resume, and the metrics so far.
    public static func writeState(_ state: TrainingState, to directory: String) throws {
        try state.save(to: directory + "/" + TrainingState.fileName)
        try AtomicFile.write(metricsCSV(state.history, task: state.settings.task), to: directory + "/metrics.csv")
    }

    /// Every output of a finished (or interrupted) run.
    public static func write(_ result: TrainingResult, to directory: String) throws {
        try result.checkpoint.save(to: directory + "/model.safetensors")
        try AtomicFile.write(ONNXExport.data(result.checkpoint), to: directory + "/" + ONNXExport.fileName)
        try AtomicFile.write(metricsCSV(result.history, task: result.checkpoint.model.config.task), to: directory + "/metrics.csv")
        try AtomicFile.write(reportText(result), to: directory + "/\(result.checkpoint.model.config.task.name)_report.txt")
        try AtomicFile.write(summaryJSON(result), to: directory + "/summary.json")
        try AtomicFile.write(ReportWriter.lossSVG(result.history, task: result.checkpoint.model.config.task, bestEpoch: result.summary.bestEpoch),
                             to: directory + "/loss.svg")
        try AtomicFile.write(ReportWriter.activationParametersSVG(result.history), to: directory + "/activation_params.svg")
        try AtomicFile.write(ReportWriter.html(result), to: directory + "/report.html")
    }

    /// Per epoch: the losses, then accuracies or (regression) the test set's R^2, MAE and RMSE,
    /// then the activation parameters.
    static func metricsCSV(_ history: [EpochRecord], task: LearningTask) -> String {
        let names = history.first?.activationParameters.map(\.name) ?? []
        let figures = task.isRegression ? ["test_r2", "test_mae", "test_rmse"] : ["train_accuracy", "test_accuracy"]
        let validation = ValidationColumns(history)
        var out = (["epoch", "train_loss", "test_loss"] + figures + ["lr"] + validation.names + names).joined(separator: ",") + "\n"
        func number(_ v: Double?) -> String { v.map { formatted("%.9g", $0) } ?? "" }
        for r in history {
            let values = task.isRegression ? [r.testRegression?.r2, r.testRegression?.mae, r.testRegression?.rmse]
                : [r.trainAccuracy, r.testAccuracy]
            let fields = [String(r.epoch), number(r.trainLoss), number(r.testLoss)] + values.map(number)
                + [number(r.learningRate)] + validation.values(r).map(number)
                + r.activationParameters.map { formatted("%.9g", Double($0.value)) }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    public static func reportText(_ result: TrainingResult) -> String {
        let lines = ReportSummary.lines(result)
        if let regression = result.regressionReport {
            return "Regression report (\(result.reportSet) set)\n\n" + regression.text() + lines.map { "\n" + $0 + "\n" }.joined()
        }
        guard let report = result.report else { return "" }
        return "Classification report (\(result.reportSet) set)\n\n" + ReportSummary.classificationText(report, lines: lines)
    }

    static func summaryJSON(_ result: TrainingResult) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Every field is finite or nil (RunSummary), so encoding cannot fail.
        return String(decoding: try! encoder.encode(result.summary), as: UTF8.self) + "\n"
    }
}
