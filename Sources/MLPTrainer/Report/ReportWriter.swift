import Foundation

/// The run's report: `report.html` (self-contained: inline SVG and CSS, no script, no network) and
/// the standalone plots `loss.svg` and `activation_params.svg`.
public enum ReportWriter {
    static let xmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    // MARK: Plots

    /// Train, test and validation loss per epoch (and the kept epoch), as a standalone SVG document.
    public static func lossSVG(_ history: [EpochRecord], task: LearningTask = .classification, bestEpoch: Int? = nil) -> String {
        xmlDeclaration + lossChart(history, task: task, bestEpoch: bestEpoch).svg(width: 640, height: 380)
    }

    /// Train and test accuracy per epoch, as a standalone SVG document.
    public static func accuracySVG(_ history: [EpochRecord]) -> String {
        xmlDeclaration + accuracyChart(history).svg(width: 640, height: 380)
    }

    /// Every learnable activation parameter per epoch, as a standalone SVG document: per-layer
    /// scalars one panel per parameter (a line per layer), per-channel ones one panel per layer and
    /// parameter (the mean as a line, min..max as a band).
    public static func activationParametersSVG(_ history: [EpochRecord]) -> String {
        xmlDeclaration + activationParametersPanels(history)
    }

    /// The confusion matrix as a standalone SVG document.
    public static func confusionSVG(_ report: ClassificationReport, set: String = "test") -> String {
        xmlDeclaration + confusionMap(report, set: set).svg()
    }

    /// Curves show at most this many epochs (evenly spaced, the first and last included), so a
    /// plot's size does not grow with --epochs.
    static let plottedEpochs = 1000

    static func plotted(_ history: [EpochRecord]) -> [EpochRecord] {
        guard history.count > plottedEpochs else { return history }
        return (0..<plottedEpochs).map { history[$0 * (history.count - 1) / (plottedEpochs - 1)] }
    }

    /// Rows shown in the predicted-vs-true plot at most, so its size does not grow with the data.
    public static let scatterRows = 2000

    /// At most `scatterRows` (true, predicted) pairs, evenly spaced over the rows.
    public static func scatterSample(truth: [Double], predicted: [Double]) -> [(truth: Double, predicted: Double)] {
        let n = truth.count, shown = min(n, scatterRows)
        return (0..<shown).map { i in
            let r = shown == n ? i : i * (n - 1) / max(shown - 1, 1)
            return (truth[r], predicted[r])
        }
    }

    /// Regression: each shown row's prediction against its true value, with the line y = x.
    static func scatterChart(_ points: [(truth: Double, predicted: Double)], set: String) -> LineChart {
        let values = points.flatMap { [$0.truth, $0.predicted] }.filter(\.isFinite)
        let low = values.min() ?? 0, high = values.max() ?? 1
        return LineChart(title: "Predicted vs true (\(set) set)", xLabel: "true value", yLabel: "predicted", series: [
            .init(name: "rows", label: "rows (\(points.count) shown)", points: points.map { ($0.truth, $0.predicted) }, markers: true),
            .init(name: "identity", label: "predicted = true", points: [(low, low), (high, high)], dashed: true),
        ])
    }

    static func lossChart(_ history: [EpochRecord], task: LearningTask = .classification, bestEpoch: Int? = nil) -> LineChart {
        let history = plotted(history)
        var series = [LineChart.Series(name: "train", label: "train (training mode)", points: history.map { (Double($0.epoch), $0.trainLoss) })]
        let test = history.compactMap { r in r.testLoss.map { (x: Double(r.epoch), y: $0) } }
        if !test.isEmpty { series.append(.init(name: "test", label: "test (evaluation mode)", points: test)) }
        let weighted = history.contains { $0.validation?.probabilities?.weightedLoss != nil }
        let validation = history.compactMap { r in r.validation.map { (x: Double(r.epoch), y: $0.loss) } }
        if !validation.isEmpty {
            series.append(.init(name: "validation", label: weighted ? "validation (class-weighted)" : "validation", points: validation))
        }
        let yLabel = switch task.regressionLoss {
        case nil: "mean NLL loss"
        case .mse?: "mean squared error (standardised target)"
        case .huber?: "mean Huber loss (standardised target)"
        }
        var chart = LineChart(title: "Loss per epoch", xLabel: "epoch", yLabel: yLabel, series: series, integerX: true)
        chart.marker = bestEpoch.map { (Double($0), "kept: epoch \($0)") }
        return chart
    }

    static func r2Chart(_ history: [EpochRecord], bestEpoch: Int? = nil) -> LineChart {
        let history = plotted(history)
        let test = history.compactMap { r in r.testRegression.map { (x: Double(r.epoch), y: $0.r2) } }
        var series = [LineChart.Series(name: "test", label: "test (evaluation mode)", points: test)]
        let validation = history.compactMap { r in r.validation?.regression.map { (x: Double(r.epoch), y: $0.r2) } }
        if !validation.isEmpty { series.append(.init(name: "validation", label: "validation", points: validation)) }
        var chart = LineChart(title: validation.isEmpty ? "Test R^2 per epoch" : "R^2 per epoch", xLabel: "epoch", yLabel: "R^2",
                              series: series, integerX: true, emptyMessage: "no test set")
        chart.marker = bestEpoch.map { (Double($0), "kept: epoch \($0)") }
        return chart
    }

    static func accuracyChart(_ history: [EpochRecord], bestEpoch: Int? = nil) -> LineChart {
        let history = plotted(history)
        var series = [LineChart.Series(name: "train", label: "train (training mode)", points: history.map { (Double($0.epoch), $0.trainAccuracy) })]
        let test = history.compactMap { r in r.testAccuracy.map { (x: Double(r.epoch), y: $0) } }
        if !test.isEmpty { series.append(.init(name: "test", label: "test (evaluation mode)", points: test)) }
        let validation = history.compactMap { r in r.validation?.probabilities.map { (x: Double(r.epoch), y: $0.accuracy) } }
        if !validation.isEmpty { series.append(.init(name: "validation", label: "validation", points: validation)) }
        var chart = LineChart(title: "Accuracy per epoch", xLabel: "epoch", yLabel: "accuracy", series: series, integerX: true)
        chart.marker = bestEpoch.map { (Double($0), "kept: epoch \($0)") }
        return chart
    }

    /// The learning rate each epoch trained with (`--lr-schedule`, `--warmup-epochs`).
    static func learningRateChart(_ history: [EpochRecord]) -> LineChart {
        let points = plotted(history).compactMap { r in r.learningRate.map { (x: Double(r.epoch), y: $0) } }
        return LineChart(title: "Learning rate per epoch", xLabel: "epoch", yLabel: "learning rate",
                         series: [.init(name: "lr", points: points)], integerX: true)
    }

    static func confusionMap(_ report: ClassificationReport, set: String) -> HeatMap {
        let shown = report.shownClasses
        return HeatMap(title: "Confusion matrix (\(set) set)", labels: shown.map { report.classLabels[$0] },
                       counts: shown.map { t in shown.map { report.confusion[t][$0] } })
    }

    /// The activation parameter panels, as one `<svg>` element (no XML declaration).
    static func activationParametersPanels(_ history: [EpochRecord]) -> String {
        let charts = activationCharts(history)
        guard !charts.panels.isEmpty else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"80\" viewBox=\"0 0 640 80\" "
                + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"14\" role=\"img\">\n"
                + "<title>Activation parameters</title>\n<rect x=\"0\" y=\"0\" width=\"640\" height=\"80\" fill=\"#ffffff\"/>\n"
                + "<text x=\"320\" y=\"45\" text-anchor=\"middle\" fill=\"#555555\">This activation has no learnable parameters.</text>\n</svg>\n"
        }
        let columns = charts.columns
        let panelWidth = columns == 1 ? 640.0 : 520.0, panelHeight = 320.0
        let rows = (charts.panels.count + columns - 1) / columns
        let width = Int(panelWidth) * columns, height = Int(panelHeight) * rows
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
            + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\">\n<title>Activation parameters per epoch</title>\n"
        for (i, chart) in charts.panels.enumerated() {
            let x = Double(i % columns) * panelWidth, y = Double(i / columns) * panelHeight
            out += "<g transform=\"translate(\(Int(x)),\(Int(y)))\">\n" + chart.body(width: panelWidth, height: panelHeight) + "</g>\n"
        }
        return out + "</svg>\n"
    }

    /// Splits `a1.alpha` / `a1.t_left.mean` into layer, parameter and statistic.
    static func activationCharts(_ history: [EpochRecord]) -> (panels: [LineChart], columns: Int) {
        let history = plotted(history)
        guard let names = history.first?.activationParameters.map(\.name), !names.isEmpty else { return ([], 1) }
        func values(_ name: String) -> [(x: Double, y: Double)] {
            history.compactMap { r in
                r.activationParameters.first(where: { $0.name == name }).map { (Double(r.epoch), Double($0.value)) }
            }
        }
        var layers: [String] = [], parameters: [String] = []
        var perChannel: Set<String> = []  // "a1.alpha" with .mean/.min/.max
        var scalar: Set<String> = []
        for name in names {
            var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count >= 3, ["mean", "min", "max"].contains(parts.last!) {
                parts.removeLast()
                perChannel.insert(parts.joined(separator: "."))
            } else {
                scalar.insert(name)
            }
            let layer = parts.count >= 2 ? parts[0] : ""
            let parameter = parts.count >= 2 ? parts.dropFirst().joined(separator: ".") : parts.joined(separator: ".")
            if !layers.contains(layer) { layers.append(layer) }
            if !parameters.contains(parameter) { parameters.append(parameter) }
        }
        func key(_ layer: String, _ parameter: String) -> String { layer.isEmpty ? parameter : layer + "." + parameter }
        var panels: [LineChart] = []
        // Per-layer scalars: one panel per parameter, one line per layer.
        for parameter in parameters {
            let series = layers.map { key($0, parameter) }.filter { scalar.contains($0) }.map { name in
                LineChart.Series(name: name, points: values(name))
            }
            if !series.isEmpty {
                panels.append(LineChart(title: "\(parameter) per epoch", xLabel: "epoch", yLabel: parameter, series: series, integerX: true))
            }
        }
        // Per-channel: one panel per layer and parameter, the mean as a line, min..max as a band.
        for layer in layers {
            for parameter in parameters where perChannel.contains(key(layer, parameter)) {
                let name = key(layer, parameter)
                let mean = values(name + ".mean"), low = values(name + ".min"), high = values(name + ".max")
                let band = zip(low, high).map { (x: $0.x, low: $0.y, high: $1.y) }
                let series = LineChart.Series(name: name + ".mean", label: "\(name): channel mean, band min..max", points: mean, band: band,
                                              bandName: name)
                panels.append(LineChart(title: "\(name) per epoch (per channel)", xLabel: "epoch", yLabel: parameter,
                                        series: [series], integerX: true))
            }
        }
        let perChannelParameters = parameters.filter { p in layers.contains { perChannel.contains(key($0, p)) } }.count
        let columns = panels.count == 1 ? 1 : (perChannelParameters == 3 ? 3 : 2)
        return (panels, columns)
    }

    // MARK: HTML

    /// The whole report as one HTML page.
    public static func html(_ result: TrainingResult) -> String {
        htmlHead(result) + headlineCards(result) + learningCurves(result) + activationSection(result) + reportSection(result)
            + "<h2>Throughput and timing</h2>\n" + timingTable(result.summary) + configurationTable(result) + "</body>\n</html>\n"
    }

    /// The page's head, title and one-line subtitle (data, network, activation, epochs).
    static func htmlHead(_ result: TrainingResult) -> String {
        let model = result.checkpoint.model.config
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>Training report</title>
            <style>
            \(css)
            </style>
            </head>
            <body>
            <h1>Training report</h1>

            """
            + "<p class=\"subtitle\">\(e(result.summary.config["data"] ?? "")) &middot; network \(e(model.sizes.map(String.init).joined(separator: "-")))"
            + " &middot; activation \(e(model.activation.description))\(model.activation.perChannel ? " per channel" : "")"
            + " &middot; \(result.summary.epochs) epochs</p>\n"
    }

    /// The headline figures as cards: the report's figures, the final losses, time and throughput.
    static func headlineCards(_ result: TrainingResult) -> String {
        let summary = result.summary
        var out = "<div class=\"cards\">\n"
        let onSet = result.reportSet == "test" ? "test " : ""
        let ofSet = result.reportSet == "test" ? "" : " (\(result.reportSet) set)"
        if let report = result.report { out += card(onSet + "accuracy" + ofSet, String(format: "%.4f", report.accuracy)) }
        for figure in result.regressionReport?.figures.dropLast() ?? [] { out += card(onSet + figure.name + ofSet, figure.value) }
        if let v = summary.finalTrainLoss { out += card("final train loss", String(format: "%.4f", v)) }
        if let v = summary.finalTestLoss { out += card(result.reportSet == "test" ? "final test loss" : "final loss (\(result.reportSet))", String(format: "%.4f", v)) }
        out += card("training time", seconds(summary.trainSeconds))
        out += card("throughput", grouped(summary.trainSamplesPerSecond) + " samples/s")
        if let v = summary.testBalancedAccuracy { out += card("balanced accuracy (mean recall)", String(format: "%.4f", v)) }
        if let v = summary.testRocAuc { out += card("ROC AUC", String(format: "%.4f", v)) }
        if let best = summary.bestEpoch { out += card("kept epoch (best validation)\(summary.stoppedEarly ? ", stopped early" : "")", "\(best) of \(summary.epochs)") }
        return out + "</div>\n"
    }

    /// Loss, accuracy (regression: R^2) and learning-rate curves.
    static func learningCurves(_ result: TrainingResult) -> String {
        let task = result.checkpoint.model.config.task, best = result.summary.bestEpoch
        let figureChart = task.isRegression ? r2Chart(result.history, bestEpoch: best) : accuracyChart(result.history, bestEpoch: best)
        let charts = [lossChart(result.history, task: task, bestEpoch: best), figureChart, learningRateChart(result.history)]
        return "<h2>Learning curves</h2>\n<div class=\"plots\">\n"
            + charts.map { "<figure>" + $0.svg(width: 560, height: 340) + "</figure>\n" }.joined() + "</div>\n"
            + "<p class=\"note\">Train figures are means over each epoch's steps in training mode (dropout on); "
            + "test figures are computed in evaluation mode after the epoch.</p>\n"
    }

    /// The activation parameters per epoch, with a note when BatchNorm cancels them.
    static func activationSection(_ result: TrainingResult) -> String {
        let model = result.checkpoint.model.config
        var out = "<h2>Activation parameters</h2>\n"
        out += "<div class=\"plots\"><figure>" + activationParametersPanels(result.history) + "</figure></div>\n"
        if model.norm.kind == .batch, model.activation.kind.name == "affine" {
            out += "<p class=\"note\">BatchNorm right after the affine activation cancels alpha exactly and beta up to its sign: "
                + "their gradients are rounding noise, so these curves show noise, not learning.</p>\n"
        }
        return out
    }

    /// The classification report and confusion map, or the regression report and scatter plot.
    static func reportSection(_ result: TrainingResult) -> String {
        var out = ""
        if let report = result.report {
            out += "<h2>Classification report (\(e(result.reportSet)) set)</h2>\n<div class=\"plots\">\n<div>\n"
            out += reportTable(report)
            out += "<p class=\"note\">" + ReportSummary.lines(result).map(e).joined(separator: "<br>\n") + "</p>\n"
            out += "</div>\n<figure>" + confusionMap(report, set: result.reportSet).svg() + "</figure>\n</div>\n"
        }
        if let regression = result.regressionReport {
            out += "<h2>Regression report (\(e(result.reportSet)) set)</h2>\n<div class=\"plots\">\n<div>\n"
            out += regressionTable(regression)
            out += ReportSummary.lines(result).map { "<p class=\"note\">" + e($0) + "</p>\n" }.joined()
            out += "</div>\n<figure>" + scatterChart(result.predictedVersusTrue, set: result.reportSet).svg(width: 480, height: 440)
                + "</figure>\n</div>\n"
        }
        return out
    }

    /// The run's settings, the network, the class labels and the feature names.
    static func configurationTable(_ result: TrainingResult) -> String {
        let config = result.summary.config
        var out = "<h2>Configuration</h2>\n<table class=\"kv\">\n"
        for key in config.keys.sorted() {
            out += "<tr><th>\(e(key))</th><td>\(e(config[key]!))</td></tr>\n"
        }
        out += "<tr><th>network</th><td>\(e(result.checkpoint.model.config.sizes.map(String.init).joined(separator: "-")))</td></tr>\n"
        out += "<tr><th>class labels</th><td>\(e(result.checkpoint.classLabels.joined(separator: ", ")))</td></tr>\n"
        out += "<tr><th>feature names</th><td>\(e(result.checkpoint.featureNames.joined(separator: ", ")))</td></tr>\n"
        return out + "</table>\n"
    }

    /// scikit-learn's classification report as an HTML table (4 decimals, like the text file).
    static func reportTable(_ report: ClassificationReport) -> String {
        func n(_ v: Double) -> String { String(format: "%.4f", v) }
        var out = "<table class=\"report\">\n<thead><tr><th></th><th>precision</th><th>recall</th><th>f1-score</th><th>support</th></tr></thead>\n<tbody>\n"
        for c in report.shownClasses {
            let label = report.classLabels[c], row = report.rows[c]
            out += "<tr><th>\(e(label))</th><td>\(n(row.precision))</td><td>\(n(row.recall))</td><td>\(n(row.f1))</td><td>\(row.support)</td></tr>\n"
        }
        if let note = report.hiddenClassesNote { out += "<tr><th colspan=\"5\">\(note)</th></tr>\n" }
        out += "<tr class=\"sep\"><th>accuracy</th><td></td><td></td><td>\(n(report.accuracy))</td><td>\(report.weighted.support)</td></tr>\n"
        for (name, row) in [("macro avg", report.macro), ("weighted avg", report.weighted)] {
            out += "<tr><th>\(name)</th><td>\(n(row.precision))</td><td>\(n(row.recall))</td><td>\(n(row.f1))</td><td>\(row.support)</td></tr>\n"
        }
        return out + "</tbody>\n</table>\n"
    }

    /// R^2, MAE, RMSE and the row count, as in the printed report.
    static func regressionTable(_ report: RegressionReport) -> String {
        "<table class=\"report\">\n<tbody>\n" + report.figures.map { "<tr><th>\($0.name)</th><td>\($0.value)</td></tr>\n" }.joined()
            + "</tbody>\n</table>\n"
    }

    static func timingTable(_ s: RunSummary) -> String {
        func decimal(_ v: Double?) -> String? { v.map { String(format: "%.4f", $0) } }
        func count(_ v: Int) -> String { grouped(Double(v)) }
        func share(_ v: Double) -> String { String(format: "%.1f %%", v * 100) }
        func error(_ v: Double?) -> String? { v.map { String(format: "%.6g", $0) } }
        let figures: [(key: String, description: String, value: String?)] = s.testR2 == nil
            ? [("test_accuracy", "final test accuracy", decimal(s.testAccuracy))]
            : [("test_r2", "final test R^2", decimal(s.testR2)), ("test_mae", "final test mean absolute error", error(s.testMae)),
               ("test_rmse", "final test root mean squared error", error(s.testRmse))]
        let rows: [(key: String, description: String, value: String?)] = [
            ("train_seconds", "training time (all epochs, with evaluation, without checkpoint writes)", seconds(s.trainSeconds)),
            ("step_seconds", "time in training steps", seconds(s.stepSeconds)),
            ("eval_seconds", "time evaluating the test set", seconds(s.evalSeconds)),
            ("checkpoint_seconds", "time writing checkpoints", seconds(s.checkpointSeconds)),
            ("load_seconds", "time loading the data", seconds(s.loadSeconds)),
            ("load_mb_per_second", "CSV parsing speed", s.loadMbPerSecond.map { String(format: "%.0f MB/s", $0) }),
            ("load_from_cache", "data read from the --cache", s.loadFromCache ? "yes" : "no"),
            ("rows", "rows in the data file", count(s.rows)),
            ("invalid_rows", "rows skipped as invalid", count(s.invalidRows)),
            ("train_samples_per_second", "training throughput", grouped(s.trainSamplesPerSecond) + " samples/s"),
            ("processes", "processes", count(s.processes)),
            ("threads", "threads per process", count(s.threads)),
            ("shards", "shards per mini-batch", count(s.shards)),
            ("step_workers", "workers a step ran on (measured fastest)", count(s.stepWorkers)),
            ("barrier_fraction", "share of step time waiting at barriers", share(s.barrierFraction)),
            ("allreduce_fraction", "share of step time in the all-reduce and optimizer", share(s.allreduceFraction)),
            ("train_rows", "training rows", count(s.trainRows)),
            ("test_rows", "test rows", count(s.testRows)),
            ("features", "features", count(s.features)),
            ("parameters", "learnable parameters", count(s.parameters)),
            ("epochs", "epochs", count(s.epochs)),
        ] + figures + [
            ("final_train_loss", "final train loss", decimal(s.finalTrainLoss)),
            ("final_test_loss", "final test loss", decimal(s.finalTestLoss)),
        ]
        var out = "<table class=\"kv\">\n"
        for row in rows {
            out += "<tr><th>\(e(row.description))</th><td>\(e(row.value ?? "-"))</td><td class=\"key\">\(e(row.key))</td></tr>\n"
        }
        return out + "</table>\n"
    }

    static func seconds(_ v: Double) -> String {
        v >= 100 ? String(format: "%.1f s", v) : v >= 1 ? String(format: "%.3f s", v) : String(format: "%.1f ms", v * 1000)
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        let digits = String(Int64(abs(v).rounded()))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (v < 0 ? "-" : "") + out
    }

    private static func card(_ name: String, _ value: String) -> String {
        "<div class=\"card\"><div class=\"value\">\(e(value))</div><div class=\"name\">\(e(name))</div></div>\n"
    }

    private static func e(_ text: String) -> String { xmlEscape(text) }

    static let css = """
        body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1160px; padding: 0 16px; }
        h1 { margin-bottom: 4px; }
        h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        .subtitle { color: #555; margin-top: 0; }
        .note { color: #666; font-size: 13px; max-width: 900px; }
        .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
        .card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 140px; background: #fafafa; }
        .card .value { font-size: 22px; font-weight: bold; }
        .card .name { color: #666; font-size: 13px; }
        .plots { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        figure { margin: 0; }
        svg { max-width: 100%; height: auto; display: block; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { padding: 4px 12px; border-bottom: 1px solid #eee; }
        table.report td { text-align: right; font-variant-numeric: tabular-nums; }
        table.report th { text-align: left; }
        table.report thead th { text-align: right; border-bottom: 2px solid #ccc; }
        table.report tr.sep th, table.report tr.sep td { border-top: 2px solid #ccc; }
        table.kv th { text-align: left; font-weight: normal; color: #444; }
        table.kv td { font-variant-numeric: tabular-nums; }
        table.kv td.key { color: #999; font-family: monospace; font-size: 12px; }
        """
}
