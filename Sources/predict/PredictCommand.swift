import ArgumentParser
import CommandLineSupport
import Foundation
import MLPTrainer

@main
struct Predict: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Apply a trained model (model.safetensors from train) to a CSV file.",
        discussion: """
            Writes one row per input row: the predicted label (column 'predicted') and each class's \
            probability (columns 'prob_<label>'), or for a regression model the prediction in the \
            target's units (column 'predicted'). When the file also has the label column, prints the \
            classification report as train does (with the recall per class and, for two classes, the \
            ROC AUC and log loss), or the regression report; rows whose label the model never saw are \
            predicted but left out of the report, with a note. A missing value (an empty field or an NA token) in \
            a numeric column gets the column's training median, and a note counts them per column \
            (--on-missing error refuses them instead). Example: predict --model runs/x/model.safetensors --data new.csv
            """)

    @Option(help: ArgumentHelp("The model (a model.safetensors written by train).", valueName: "path"))
    var model: String
    @Option(help: ArgumentHelp("CSV file with the model's feature columns, and optionally the label column.", valueName: "path"))
    var data: String
    @Option(help: ArgumentHelp("Where to write the predictions. (default: <data>.predictions.csv)", valueName: "path"))
    var output: String?
    @OptionGroup(title: "CSV layout")
    var format: CSVFormatOptions
    @Option(help: "Threads. (default: the machine's active cores)")
    var threads: Int?
    @Option(help: ArgumentHelp(
        "A missing value in a numeric column that had none in training: 'fill' gives it the training median "
            + "(and a note counts them), 'error' refuses the file naming its line and column.",
        valueName: "fill|error"))
    var onMissing: MissingValuePolicy = .fill
    @Option(help: "Read the file in windows of this many MiB (memory holds one window's rows).")
    var windowMegabytes: Int = 64
    @Flag(help: "Replace --output when it already exists (never an input file).")
    var force = false
    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func run() throws {
        let threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
        try ThreadLimit.check(threads)
        var options = CSVOptions(threads: threads)
        try format.apply(to: &options)
        guard windowMegabytes >= 1, windowMegabytes <= 1 << 20 else {
            throw ConfigError("--window-megabytes must be in 1...1048576, got \(windowMegabytes)")
        }
        let destination = output ?? data + ".predictions.csv"
        try OutputPath.check(destination, flag: "--output", inputs: [data, model], overwrite: force, overwriteFlag: "--force")
        let checkpoint = try Checkpoint.load(path: model)
        let nonFinite = ModelValidation.nonFiniteTensors(checkpoint.model)
        if !nonFinite.isEmpty {
            FileHandle.standardError.write(Data("predict: warning: \(model): NaN or infinity in \(nonFinite.joined(separator: ", ")); predictions may be NaN\n".utf8))
        }
        let started = Date()
        let labelled = try findLabelColumn(checkpoint, &options)
        let outcome = try predictWindows(checkpoint, options: options, labelled: labelled, threads: threads, into: destination)
        if !quiet { printOutcome(outcome, checkpoint: checkpoint, seconds: Date().timeIntervalSince(started), destination: destination) }
    }

    /// What the windows add up to: the rows, per column the unseen categories or the missing values
    /// given the training median (`forEachCSVWindow`'s `unseen`), and the labelled rows' report.
    struct Outcome {
        var rows = 0
        var unseen: [Int]
        var labels: LabelledPredictions?
    }

    /// Whether the file has the label column, and `options` set to read it or not.
    private func findLabelColumn(_ checkpoint: Checkpoint, _ options: inout CSVOptions) throws -> Bool {
        guard let encoding = checkpoint.encoding else { return try labelledByColumnCount(checkpoint, &options) }
        // Columns by name: labelled when the file has the training file's label column.
        let header = try csvHeader(path: data, options: options)
        let target = format.target ?? encoding.target
        let labelled = header.map { h in target.map(h.contains) ?? false } ?? false
        if labelled { options.target = target } else { options.noTarget = true }
        return labelled
    }

    /// Window by window: memory holds one window's rows and predictions, whatever the file's size.
    private func predictWindows(_ checkpoint: Checkpoint, options: CSVOptions, labelled: Bool, threads: Int,
                                into destination: String) throws -> Outcome {
        let predictor = Predictor(checkpoint: checkpoint, threads: threads)
        let regression = checkpoint.targetScaling != nil
        var outcome = Outcome(unseen: [Int](repeating: 0, count: checkpoint.inputColumns.count),
                              labels: labelled ? LabelledPredictions(checkpoint: checkpoint) : nil)
        try AtomicFile.write(to: destination) { file in
            try file.write(contentsOf: predictor.csvHeader())
            try forEachCSVWindow(path: data, options: options, classLabels: labelled && !regression ? checkpoint.classLabels : nil,
                                 windowBytes: windowMegabytes << 20, encoding: checkpoint.encoding, medians: checkpoint.featureMedians,
                                 missing: onMissing, numericTarget: labelled && regression,
                                 unseen: { outcome.unseen = zip(outcome.unseen, $0).map(+) },
                                 unseenLabels: labelled && !regression ? { outcome.labels?.add($0) } : nil) { window in
                try predictor.check(window, source: data)
                let result = predictor.predict(window)
                try file.write(contentsOf: predictor.csvRows(result))
                outcome.rows += window.rows
                outcome.labels?.add(window, result)
            }
        }
        return outcome
    }

    /// The speed line, a note per column with unseen categories or filled missing values, and the
    /// report of a labelled file (with a note on the rows whose labels the model never saw).
    private func printOutcome(_ outcome: Outcome, checkpoint: Checkpoint, seconds: Double, destination: String) {
        print(String(format: "%d rows in %.3f s, %.0f rows/s end to end; predictions in %@", outcome.rows, seconds,
                     Double(outcome.rows) / seconds, destination))
        for (column, count) in zip(checkpoint.inputColumns, outcome.unseen) where count > 0 {
            let values = "\(count) value\(count == 1 ? "" : "s")"
            if column.kind == .numeric {
                print("note: \(values) missing in '\(column.name)', which had none in training; given its training median "
                    + (column.fill ?? 0).description)
            } else {
                print("note: \(values) of '\(column.name)' not among its training categories "
                    + "(\(column.other ? "counted as <other>" : "no input hot"))")
            }
        }
        if let note = outcome.labels?.unseenNote() { print(note) }
        if let report = outcome.labels?.report() { print("\n" + report) }
    }

    /// A model without a column encoding reads its features by position: the file has them, and
    /// maybe the label column after them.
    private func labelledByColumnCount(_ checkpoint: Checkpoint, _ options: inout CSVOptions) throws -> Bool {
        let features = checkpoint.featureNames.count
        let columns = try csvColumnCount(path: data, options: options)
        let labelled: Bool
        switch columns {
        case features + 1:
            labelled = true
            options.target = format.target ?? checkpoint.runConfiguration["target"]
        case features where format.target == nil:
            labelled = false
            options.noTarget = true
        default:
            throw DataError("\(data): has \(columns) columns; the model needs its \(features) features (\(checkpoint.featureNames.joined(separator: ", "))), optionally with the label column")
        }
        return labelled
    }
}

extension MissingValuePolicy: ExpressibleByArgument {}
