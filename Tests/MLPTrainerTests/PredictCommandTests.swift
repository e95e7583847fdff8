import CKernels
import Foundation
@testable import MLPTrainer
import Testing

/// The `predict` executable: predictions and probabilities, the report when labels are present,
/// and the same report `train` printed for the same rows.
@Suite struct PredictCommandTests {
    static func run(_ arguments: [String]) throws -> TrainCommandTests.Outcome {
        try Executable.run("predict", arguments)
    }

    /// A model trained on all of banknote (no test split), so its report is on the training rows.
    static let trained: String = {
        let out = TrainCommandTests.temporaryPath("predict-model")
        let r = try! TrainCommandTests.run(["--data", TrainCommandTests.banknote, "--epochs", "30", "--test-fraction", "0",
                                            "--threads", "2", "--out", out, "--quiet"])
        precondition(r.status == 0, r.stderr)
        return out
    }()

    @Test func predictOnTheTrainingDataReproducesTrainsReport() throws {
        let output = TrainCommandTests.temporaryPath("pred") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let r = try Self.run(["--model", Self.trained + "/model.safetensors", "--data", TrainCommandTests.banknote, "--output", output])
        #expect(r.status == 0, "\(r.stderr)")
        // The whole report under its title: the table, the recall per class, ROC AUC and log loss, the confusion matrix.
        let trainReport = try String(contentsOfFile: Self.trained + "/classification_report.txt", encoding: .utf8)
        let report = trainReport.drop { $0 != "\n" }.dropFirst(2)
        #expect(report.contains("recall per class: 0 ") && report.contains("ROC AUC ") && report.contains("Confusion matrix"))
        #expect(r.stdout.contains(report), "train:\n\(trainReport)\npredict:\n\(r.stdout)")
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1373 && lines[0] == "predicted,prob_0,prob_1")
        for line in lines.dropFirst() {
            let f = line.split(separator: ",")
            let p0 = Double(f[1])!, p1 = Double(f[2])!
            #expect(abs(p0 + p1 - 1) < 1e-5)
            #expect(f[0] == (p1 > p0 ? "1" : "0"))
        }
    }

    @Test func unlabelledRowsGetPredictionsOnly() throws {
        let text = try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8)
        let unlabelled = text.split(separator: "\n").map { $0.split(separator: ",").prefix(4).joined(separator: ",") }.joined(separator: "\n")
        let input = try TrainCommandTests.writeCSV(unlabelled + "\n")
        let output = input + ".out.csv"
        defer { for p in [input, output] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try Self.run(["--model", Self.trained + "/model.safetensors", "--data", input, "--output", output, "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("precision"))
        #expect(try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").count == 1373)
    }

    @Test(arguments: [
        ("a,b\n1,2\n", "has 2 columns; the model needs its 4 features"),
        ("variance,skewness,curtosis,entropy,class\n1,2,x,4,1\n", ":2:3: invalid number \"x\""),
        ("skewness,variance,curtosis,entropy\n1,2,3,4\n", "column 1 is 'skewness', the model's feature 1 is 'variance'"),
    ])
    func badInputIsOneLine(text: String, mentions: String) throws {
        let input = try TrainCommandTests.writeCSV(text)
        defer { try? FileManager.default.removeItem(atPath: input) }
        let r = try Self.run(["--model", Self.trained + "/model.safetensors", "--data", input])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(mentions), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: input + ".predictions.csv"))
    }

    @Test func windowsCoverEveryRowOnceAndErrorsNameTheFilesLine() throws {
        var text = "a,b,class\n"
        for i in 0..<3000 { text += "\(i),\(i % 7),\(i % 2)\n" }
        let path = try TrainCommandTests.writeCSV(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var firstColumn: [Float] = [], labels: [Int32] = []
        var windows = 0
        try forEachCSVWindow(path: path, options: CSVOptions(threads: 2), classLabels: ["0", "1"], windowBytes: 1000) { window in
            firstColumn += stride(from: 0, to: window.features.count, by: 2).map { window.features[$0] }
            labels += window.labels
            windows += 1
        }
        #expect(windows > 20)
        #expect(firstColumn == (0..<3000).map(Float.init))
        #expect(labels == (0..<3000).map { Int32($0 % 2) })
        let bad = try TrainCommandTests.writeCSV(text + "3000,x,1\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        do {
            try forEachCSVWindow(path: bad, options: CSVOptions(threads: 2), classLabels: ["0", "1"], windowBytes: 1000) { _ in }
            Issue.record("no error")
        } catch {
            #expect("\(error)" == "\(bad):3002:2: invalid number \"x\" in column 'b'")
        }
    }

    /// Banknote with labels the model never saw on some rows: `label(i)` for data row i, nil to keep it.
    static func relabelled(_ label: (Int) -> String?) throws -> (path: String, known: [Int]) {
        let lines = try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8).split(separator: "\n")
        var known: [Int] = []
        let rows = lines.dropFirst().enumerated().map { i, line in
            guard let new = label(i) else { known.append(i); return String(line) }
            return line.split(separator: ",").dropLast().joined(separator: ",") + "," + new
        }
        return (try TrainCommandTests.writeCSV(([String(lines[0])] + rows).joined(separator: "\n") + "\n"), known)
    }

    /// The report of a run's output: everything after its notes.
    static func report(_ stdout: String) -> Substring { stdout[stdout.range(of: "precision")!.lowerBound...] }

    @Test func rowsWithUnseenLabelsArePredictedButLeftOutOfTheReport() throws {
        let (input, known) = try Self.relabelled { $0 % 10 == 3 ? "2" : $0 == 7 ? "dog" : nil }
        let lines = try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8).split(separator: "\n")
        let knownOnly = try TrainCommandTests.writeCSV(([String(lines[0])] + known.map { String(lines[$0 + 1]) }).joined(separator: "\n") + "\n")
        let (output, plain, knownOutput) = (input + ".out.csv", input + ".plain.csv", knownOnly + ".out.csv")
        defer { for p in [input, knownOnly, output, plain, knownOutput] { try? FileManager.default.removeItem(atPath: p) } }
        let model = Self.trained + "/model.safetensors"
        let r = try Self.run(["--model", model, "--data", input, "--output", output, "--window-megabytes", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        // Every row is predicted, as the unchanged file's rows are.
        let all = try Self.run(["--model", model, "--data", TrainCommandTests.banknote, "--output", plain, "--quiet"])
        let predictions = try String(contentsOfFile: output, encoding: .utf8), unchanged = try String(contentsOfFile: plain, encoding: .utf8)
        #expect(all.status == 0 && predictions.split(separator: "\n").count == 1373 && predictions == unchanged)
        // The note: the first unseen label's line and column, and the rows per label in file order.
        #expect(known.count == 1234)
        #expect(r.stdout.contains("note: \(input):5:5: label '2' is not one of the model's classes (0, 1); "
            + "138 of 1372 rows have labels it never saw (rows per label: '2' 137, 'dog' 1); they are predicted, "
            + "and the report counts the other 1234 rows\n"), "\(r.stdout)")
        // The report is the known rows' alone: their support and the known-only file's figures.
        let k = try Self.run(["--model", model, "--data", knownOnly, "--output", knownOutput])
        #expect(k.status == 0 && !k.stdout.contains("note:"), "\(k.stderr)")
        #expect(Self.report(r.stdout) == Self.report(k.stdout))
        #expect(r.stdout.split(separator: "\n").contains { $0.hasPrefix("    accuracy ") && $0.hasSuffix(" 1234") }, "\(r.stdout)")
    }

    @Test func noKnownLabelWritesPredictionsAndSkipsTheReport() throws {
        let (input, _) = try Self.relabelled { "c\($0 % 7)" }
        let output = input + ".out.csv"
        defer { for p in [input, output] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try Self.run(["--model", Self.trained + "/model.safetensors", "--data", input, "--output", output])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").count == 1373)
        #expect(r.stdout.contains("note: \(input):2:5: label 'c0' is not one of the model's classes (0, 1); 1372 of 1372 rows have "
            + "labels it never saw (rows per label: 'c0' 196, 'c1' 196, 'c2' 196, 'c3' 196, 'c4' 196, and 2 more labels); "
            + "they are predicted, and no row has a label the model knows, so no report\n"), "\(r.stdout)")
        #expect(!r.stdout.contains("precision"))
    }

    @Test func unseenLabelsAddUpOverWindows() throws {
        var text = "a,b,class\n"
        for i in 0..<3000 { text += "\(i),\(i % 7),\(i % 3)\n" }
        let path = try TrainCommandTests.writeCSV(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var labels: [Int32] = [], unseen: [UnseenLabels] = []
        try forEachCSVWindow(path: path, options: CSVOptions(threads: 2), classLabels: ["0", "1"], windowBytes: 1000,
                             unseenLabels: { unseen.append($0) }) { labels += $0.labels }
        #expect(unseen.count > 20 && labels == (0..<3000).map { $0 % 3 == 2 ? -1 : Int32($0 % 3) })
        var total = unseen[0]
        for later in unseen.dropFirst() { total.add(later) }
        #expect(total.line == 4 && total.column == 3 && total.rows == 1000)
        #expect(total.labels.map(\.label) == ["2"] && total.labels.map(\.rows) == [1000])
        // Each window's line (counted on from the previous window's) is an unseen row's: row i is on line i + 2.
        let lines = unseen.compactMap(\.line)
        #expect(lines.count == unseen.count && lines == lines.sorted() && lines.allSatisfy { ($0 - 2) % 3 == 2 }, "\(lines)")
    }

    /// Line numbers counted on from the previous offset asked, forwards or back, are the lines counted
    /// from the file's start.
    @Test func lineCounterAgreesWithCountingFromTheStart() {
        let text = (0..<500).map { String(repeating: "x", count: $0 % 7) }.joined(separator: "\n")
        text.withCString { data in
            var counter = LineCounter(data)
            for offset in [0, 3, 3, 900, 40, 1_200, text.utf8.count, 17, 0] {
                #expect(counter.line(at: offset) == Int(ck_csv_line_number(data, Int64(offset))), "offset \(offset)")
            }
        }
    }

    /// A label is named as the file writes it where it first appears, not as its number parses:
    /// "2.0", " 2" and "2" are one label, shown as '2.0' over every window.
    @Test func unseenLabelsAreShownAsWritten() throws {
        let (input, _) = try Self.relabelled { $0 == 3 ? "2.0" : $0 % 10 == 3 ? " 2" : $0 % 10 == 5 ? "2" : $0 == 7 ? "3.50" : nil }
        let output = input + ".out.csv"
        defer { for p in [input, output] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try Self.run(["--model", Self.trained + "/model.safetensors", "--data", input, "--output", output])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("note: \(input):5:5: label '2.0' is not one of the model's classes (0, 1); 275 of 1372 rows have "
            + "labels it never saw (rows per label: '2.0' 274, '3.50' 1);"), "\(r.stdout)")
        var text = "a,b,class\n"
        for i in 0..<3000 { text += "\(i),\(i % 7),\(i % 3 == 2 ? (i < 1500 ? "2.0" : "2") : String(i % 3))\n" }
        let path = try TrainCommandTests.writeCSV(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var unseen: [UnseenLabels] = []
        try forEachCSVWindow(path: path, options: CSVOptions(threads: 2), classLabels: ["0", "1"], windowBytes: 1000,
                             unseenLabels: { unseen.append($0) }) { _ in }
        var total = unseen[0]
        for later in unseen.dropFirst() { total.add(later) }
        #expect(unseen.last?.labels.map(\.label) == ["2"])
        #expect(total.labels.map(\.label) == ["2.0"] && total.labels.map(\.rows) == [1000])
    }

    @Test func missingModelIsNamed() throws {
        let r = try Self.run(["--model", "/nonexistent/model.safetensors", "--data", TrainCommandTests.banknote])
        #expect(r.status != 0 && r.stderr.contains("/nonexistent/model.safetensors: no such file"))
    }
}
