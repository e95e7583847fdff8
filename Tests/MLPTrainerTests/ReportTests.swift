import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MLPTrainer

/// What an SVG holds, read back with XMLParser: every `data-series` polyline and `data-band` polygon
/// with its `data-values`, and all text.
final class SVGContents: NSObject, XMLParserDelegate {
    var series: [String: [(x: Double, y: Double)]] = [:]
    var bands: [String: [(x: Double, low: Double, high: Double)]] = [:]
    var text = ""
    var elements = 0

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
                attributes: [String: String] = [:]) {
        elements += 1
        let values = (attributes["data-values"] ?? "").split(separator: " ").map { $0.split(separator: ",").map { Double(String($0))! } }
        if let name = attributes["data-series"] {
            series[name] = values.map { (x: $0[0], y: $0[1]) }
        }
        if let name = attributes["data-band"] {
            bands[name] = values.map { (x: $0[0], low: $0[1], high: $0[2]) }
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    /// Parses `svg`, recording an issue when it is not well-formed XML.
    static func parse(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> SVGContents {
        let contents = SVGContents()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = contents
        let ok = parser.parse()
        #expect(ok, "not well-formed XML: \(String(describing: parser.parserError))", sourceLocation: sourceLocation)
        #expect(!svg.lowercased().contains("nan"), "NaN in the SVG", sourceLocation: sourceLocation)
        return contents
    }
}

/// Equal to the printed precision (%.9g).
func printedEqual(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-8 * max(1, abs(b)) }

enum ReportFixtures {
    static func settings(perChannel: Bool = false) throws -> TrainingSettings {
        var s = TrainingSettings()
        s.data = .synthetic(rows: 300, features: 4, classes: 3)
        s.hidden = [6, 5, 4, 3]
        s.epochs = 6
        s.batchSize = 50
        s.threads = 1
        s.shards = 1
        s.seed = 5
        s.activation = try ActivationSpec(parsing: "affine", perChannel: perChannel)
        return s
    }

    static let scalar: TrainingResult = try! TrainingRun(settings: settings()).run()
    static let perChannel: TrainingResult = try! TrainingRun(settings: settings(perChannel: true)).run()
}

@Suite struct ReportTests {
    @Test func lossSVGHoldsTheHistory() throws {
        let history = ReportFixtures.scalar.history
        let svg = SVGContents.parse(ReportWriter.lossSVG(history))
        let train = try #require(svg.series["train"]), test = try #require(svg.series["test"])
        #expect(train.map(\.x) == history.map { Double($0.epoch) })
        #expect(test.map(\.x) == history.map { Double($0.epoch) })
        for (point, record) in zip(train, history) { #expect(printedEqual(point.y, record.trainLoss)) }
        for (point, record) in zip(test, history) { #expect(printedEqual(point.y, record.testLoss!)) }
        #expect(train.count == 6 && test.count == 6)
        #expect(svg.text.contains("epoch") && svg.text.contains("loss"))
    }

    @Test func accuracySVGHoldsTheHistory() throws {
        let history = ReportFixtures.scalar.history
        let svg = SVGContents.parse(ReportWriter.accuracySVG(history))
        let train = try #require(svg.series["train"]), test = try #require(svg.series["test"])
        for (point, record) in zip(train, history) { #expect(point.x == Double(record.epoch) && printedEqual(point.y, record.trainAccuracy)) }
        for (point, record) in zip(test, history) { #expect(point.x == Double(record.epoch) && printedEqual(point.y, record.testAccuracy!)) }
    }

    @Test func activationSVGHasEveryScalarParameter() throws {
        let history = ReportFixtures.scalar.history
        let svg = SVGContents.parse(ReportWriter.activationParametersSVG(history))
        let names = (1...4).flatMap { ["a\($0).alpha", "a\($0).beta"] }
        #expect(Set(svg.series.keys) == Set(names))
        for name in names {
            let points = try #require(svg.series[name])
            #expect(points.map(\.x) == history.map { Double($0.epoch) })
            for (point, record) in zip(points, history) {
                let value = try #require(record.activationParameters.first { $0.name == name }).value
                #expect(printedEqual(point.y, Double(value)), "\(name) epoch \(record.epoch)")
            }
        }
        #expect(svg.bands.isEmpty)
    }

    @Test func perChannelParametersAreMeanAndBand() throws {
        let history = ReportFixtures.perChannel.history
        #expect(history[0].activationParameters.contains { $0.name == "a1.alpha.mean" })
        let svg = SVGContents.parse(ReportWriter.activationParametersSVG(history))
        for layer in 1...4 {
            for parameter in ["alpha", "beta"] {
                let name = "a\(layer).\(parameter)"
                let mean = try #require(svg.series[name + ".mean"]), band = try #require(svg.bands[name])
                #expect(mean.count == history.count && band.count == history.count)
                for (i, record) in history.enumerated() {
                    func value(_ suffix: String) -> Double { Double(record.activationParameters.first { $0.name == name + suffix }!.value) }
                    #expect(mean[i].x == Double(record.epoch) && band[i].x == Double(record.epoch))
                    #expect(printedEqual(mean[i].y, value(".mean")))
                    #expect(printedEqual(band[i].low, value(".min")) && printedEqual(band[i].high, value(".max")))
                    #expect(band[i].low <= mean[i].y + 1e-6 && mean[i].y <= band[i].high + 1e-6)
                }
            }
        }
        #expect(svg.series.count == 8 && svg.bands.count == 8)
    }

    @Test func noLearnableParametersStillWritesAnSVGThatSaysSo() {
        let history = (1...3).map { EpochRecord(epoch: $0, trainLoss: 1, trainAccuracy: 0.5, testLoss: nil, testAccuracy: nil, activationParameters: []) }
        let svg = SVGContents.parse(ReportWriter.activationParametersSVG(history))
        #expect(svg.text.contains("no learnable parameters"))
        #expect(svg.series.isEmpty)
        // No test set: the loss plot has the train series only.
        let loss = SVGContents.parse(ReportWriter.lossSVG(history))
        #expect(Array(loss.series.keys) == ["train"])
    }

    @Test func chartsCopeWithOnePointConstantsAndNonFiniteValues() throws {
        let one = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(1, 0.25)])], integerX: true)
        let parsed = SVGContents.parse(one.svg())
        #expect(parsed.series["s"]!.count == 1)
        let constant = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "c", points: (1...5).map { (Double($0), 3.0) })])
        _ = SVGContents.parse(constant.svg())
        let zero = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "z", points: (1...5).map { (Double($0), 0.0) })])
        _ = SVGContents.parse(zero.svg())
        let gaps = LineChart(title: "t", xLabel: "x", yLabel: "y",
                             series: [.init(name: "g", points: [(1, 1), (2, .nan), (3, .infinity), (4, 2)])])
        #expect(SVGContents.parse(gaps.svg()).series["g"]!.map(\.x) == [1, 4])
        let empty = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [])
        _ = SVGContents.parse(empty.svg())
    }

    @Test func ticksAreNiceNumbers() {
        let axis = ChartAxis.nice(min: 0.0312, max: 0.987, target: 6, integer: false)
        #expect(axis.step == 0.2)
        #expect(axis.ticks.map(axis.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let epochs = ChartAxis.nice(min: 1, max: 300, target: 8, integer: true)
        #expect(epochs.step == 50 && epochs.ticks.first == 0 && epochs.ticks.last == 300)
        let single = ChartAxis.nice(min: 1, max: 1, target: 8, integer: true)
        #expect(single.step == 1 && single.ticks == [0, 1, 2])
        let tiny = ChartAxis.nice(min: -3e-9, max: 4e-9, target: 6, integer: false)
        #expect(tiny.ticks.count >= 3 && tiny.ticks.allSatisfy { $0.isFinite })
        #expect(Set(tiny.ticks.map(tiny.label)).count == tiny.ticks.count, "tick labels must differ")
        for (lo, hi) in [(0.0, 1.0), (0.5, 0.5), (-2.0, 7.0), (123.0, 456.0), (0.999, 1.001)] {
            let a = ChartAxis.nice(min: lo, max: hi, target: 6, integer: false)
            let mantissa = a.step / pow(10, floor(log10(a.step)))
            #expect([1, 2, 5].contains { abs(mantissa - $0) < 1e-9 }, "step \(a.step)")
            #expect(a.lo <= lo && a.hi >= hi)
        }
    }

    @Test func confusionHeatMapHasCountsAndLabels() {
        let report = ClassificationReport(classLabels: ["cat", "dog", "<b>&\"x\""], truth: [0, 0, 1, 1, 1, 2], predicted: [0, 1, 1, 1, 2, 2])
        let svg = SVGContents.parse(ReportWriter.confusionSVG(report))
        #expect(svg.text.contains("cat") && svg.text.contains("<b>&\"x\""))
        #expect(svg.text.contains("predicted") && svg.text.contains("true"))
        #expect(svg.elements > 9)
    }

    @Test func htmlHasTheTableEscapedLabelsAndNoScriptOrNetwork() throws {
        var result = ReportFixtures.scalar
        let evil = "<b>&\"x\""
        let report = ClassificationReport(classLabels: [evil, "plain", "third"], truth: [0, 0, 1, 1, 2, 2, 2],
                                          predicted: [0, 1, 1, 1, 2, 2, 0])
        result.report = report
        result.summary.config["data"] = "<script>alert('x')</script>.csv"
        let html = ReportWriter.html(result)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("&lt;b&gt;&amp;&quot;x&quot;"))
        #expect(!html.contains(evil))
        #expect(!html.lowercased().contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;.csv"))
        for row in report.rows {
            for v in [row.precision, row.recall, row.f1] { #expect(html.contains("<td>\(String(format: "%.4f", v))</td>")) }
            #expect(html.contains("<td>\(row.support)</td>"))
        }
        #expect(html.contains("<th>accuracy</th><td></td><td></td><td>\(String(format: "%.4f", report.accuracy))</td><td>7</td>"))
        #expect(html.contains("<th>macro avg</th><td>\(String(format: "%.4f", report.macro.precision))</td>"))
        #expect(html.contains("<th>weighted avg</th><td>\(String(format: "%.4f", report.weighted.precision))</td>"))
        // No network: the only URL is the SVG namespace.
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespace.contains("http://") && !withoutNamespace.contains("https://"))
        // Configuration and throughput.
        for key in ["train_seconds", "train_samples_per_second", "load_seconds", "threads", "shards", "barrier_fraction", "allreduce_fraction"] {
            #expect(html.contains(">\(key)<"), "\(key) missing")
        }
        for (key, value) in ReportFixtures.scalar.summary.config where key != "data" {
            #expect(html.contains("<tr><th>\(key)</th><td>\(xmlEscape(value))</td></tr>"), "config \(key)")
        }
        // Every inline plot is well-formed and holds the data.
        var svgs: [SVGContents] = []
        var rest = html[...]
        while let start = rest.range(of: "<svg "), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            svgs.append(SVGContents.parse(String(rest[start.lowerBound..<end.upperBound])))
            rest = rest[end.upperBound...]
        }
        #expect(svgs.count == 5)  // loss, accuracy, learning rate, activation parameters, confusion matrix
        #expect(svgs.contains { $0.series["test"] != nil && $0.text.contains("Loss") })
        #expect(svgs.contains { $0.series["a4.beta"] != nil })
        #expect(svgs.contains { $0.text.contains(evil) && $0.text.contains("Confusion") })
    }

    @Test func runWriterWritesTheReportFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-run-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try RunWriter.create(directory)
        try RunWriter.write(ReportFixtures.perChannel, to: directory)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(files.isSuperset(of: ["report.html", "loss.svg", "activation_params.svg", "metrics.csv", "summary.json"]))
        #expect(files.allSatisfy { !$0.contains(".tmp-") })
        let loss = try String(contentsOfFile: directory + "/loss.svg", encoding: .utf8)
        #expect(loss.hasPrefix("<?xml"))
        #expect(SVGContents.parse(loss).series["train"]?.count == ReportFixtures.perChannel.history.count)
        let params = try String(contentsOfFile: directory + "/activation_params.svg", encoding: .utf8)
        #expect(SVGContents.parse(params).bands["a3.beta"] != nil)
        let html = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
        #expect(html == ReportWriter.html(ReportFixtures.perChannel))
    }
}
