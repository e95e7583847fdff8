import CKernels
import Foundation
import MLPTrainer
import ONNXProto
import Testing

/// Missing values that first appear at prediction time (fastai#2911, pytorch_tabular#173): a numeric
/// column without blanks in training has no `_na` indicator, yet `predict` gives its blanks and NA
/// tokens the column's training median, counts them per column, refuses them with
/// `--on-missing error`, and model.onnx does the same with NaN. Old model files keep working.
@Suite struct PredictMissingValueTests {
    static let model = PredictCommandTests.trained + "/model.safetensors"
    static let header = "variance,skewness,curtosis,entropy,class"

    /// The training file's first `count` data rows, as fields.
    static func banknoteRows(_ count: Int) throws -> [[String]] {
        let lines = try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8).split(separator: "\n")
        return lines.dropFirst().prefix(count).map { $0.split(separator: ",").map(String.init) }
    }

    /// numpy.median of each column of the bank-note file (all rows: the model had no test split).
    static func banknoteMedians() throws -> [Float] {
        let rows = try banknoteRows(1372)
        return (0..<4).map { j in
            let v = rows.map { Float($0[j])! }.sorted()
            return Float((Double(v[(v.count - 1) / 2]) + Double(v[v.count / 2])) / 2)
        }
    }

    /// Predicts `rows` (with the header) and returns the outcome and the predictions file's lines.
    static func predict(_ rows: [[String]], model: String = model, _ extra: [String] = [])
        throws -> (TrainCommandTests.Outcome, [Substring]) {
        let input = try TrainCommandTests.writeCSV(([header] + rows.map { $0.joined(separator: ",") }).joined(separator: "\n") + "\n")
        let output = input + ".out.csv"
        defer { for p in [input, output] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try PredictCommandTests.run(["--model", model, "--data", input, "--output", output, "--threads", "1"] + extra)
        let lines = (try? String(contentsOfFile: output, encoding: .utf8))?.split(separator: "\n") ?? []
        return (r, lines)
    }

    @Test func anAllNumericModelStoresItsTrainingMedians() throws {
        let checkpoint = try Checkpoint.load(path: Self.model)
        let medians = try Self.banknoteMedians()
        #expect(checkpoint.featureMedians == medians)
        #expect(checkpoint.encoding == nil)
        // The training state for --resume carries them too.
        let state = try Checkpoint.read(path: PredictCommandTests.trained + "/checkpoint.safetensors").metadata
        let stored = try Checkpoint.read(path: Self.model).metadata["feature_medians"]
        #expect(stored != nil && state["feature_medians"] == stored)
    }

    @Test func blanksAndNATokensGetTheMedianAndAreCounted() throws {
        var rows = try Self.banknoteRows(8)
        let medians = try Self.banknoteMedians()
        var filled = rows
        for (r, c, text) in [(1, 0, ""), (3, 0, "NA"), (4, 2, "?"), (6, 0, "nan")] {
            rows[r][c] = text
            filled[r][c] = medians[c].description
        }
        let (r, lines) = try Self.predict(rows)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("note: 3 values missing in 'variance', which had none in training; given its training median \(medians[0])"),
                "\(r.stdout)")
        #expect(r.stdout.contains("note: 1 value missing in 'curtosis', which had none in training; given its training median \(medians[2])"))
        #expect(!r.stdout.contains("'skewness'") && !r.stdout.contains("'entropy'"))
        // Exactly the predictions of the same rows with the medians written in.
        let (f, expected) = try Self.predict(filled)
        #expect(f.status == 0 && !f.stdout.contains("note:"), "\(f.stderr)")
        #expect(lines.count == 9 && lines == expected)
    }

    @Test func onMissingErrorRefusesNamingLineAndColumn() throws {
        var rows = try Self.banknoteRows(5)
        rows[2][1] = "NA"
        rows[3][1] = ""
        let (r, lines) = try Self.predict(rows, ["--on-missing", "error"])
        #expect(r.status != 0 && lines.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(".csv:4:2: missing value in column 'skewness', which had none in training"), "\(r.stderr)")
        let clean = try Self.predict(try Self.banknoteRows(5), ["--on-missing", "error"])
        #expect(clean.0.status == 0 && clean.1.count == 6, "\(clean.0.stderr)")
        let bad = try Self.predict(rows, ["--on-missing", "drop"])
        #expect(bad.0.status != 0 && bad.0.stderr.contains("--on-missing"), "\(bad.0.stderr)")
    }

    /// A model file from before the medians were stored: the same predictions on complete rows, the
    /// old one-line error on a blank.
    @Test func aModelWithoutMediansPredictsAsBefore() throws {
        let (tensors, metadata) = try Checkpoint.read(path: Self.model)
        let old = TrainCommandTests.temporaryPath("old-model") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: old) }
        try Safetensors.encode(tensors, metadata: metadata.filter { $0.key != "feature_medians" }).write(to: URL(fileURLWithPath: old))
        #expect(try Checkpoint.load(path: old).featureMedians == nil)
        let rows = try Self.banknoteRows(6)
        let (r, lines) = try Self.predict(rows, model: old)
        let current = try Self.predict(rows).1
        #expect(r.status == 0 && lines == current, "\(r.stderr)")
        var blank = rows
        blank[4][3] = ""
        let (e, none) = try Self.predict(blank, model: old)
        #expect(e.status != 0 && none.isEmpty)
        #expect(e.stderr.split(separator: "\n").count == 1 && e.stderr.contains(".csv:6:4: missing value in column 'entropy'"), "\(e.stderr)")
    }

    /// model.onnx of the all-numeric model fills NaN with the same medians inside the graph.
    @Test func onnxFillsNaNAsPredictFillsBlanks() throws {
        var rows = try Self.banknoteRows(6)
        rows[0][0] = ""
        rows[2][3] = "NA"
        rows[5][1] = ""
        rows[5][2] = ""
        let (r, lines) = try Self.predict(rows)
        #expect(r.status == 0, "\(r.stderr)")
        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: PredictCommandTests.trained + "/model.onnx")))
        let features = rows.flatMap { $0.prefix(4).map { Float($0) ?? .nan } }
        let values = try ONNXInterpreter(graph: model.graph).run(["features": .init(shape: [rows.count, 4], floats: features)])
        let expected = lines.dropFirst().map { $0.split(separator: ",") }
        #expect(values["label"]!.strings == expected.map { String($0[0]) })
        let probabilities = expected.flatMap { $0.dropFirst().map { Float($0)! } }
        let diff = zip(values["probabilities"]!.floats, probabilities).map { abs($0 - $1) }.max() ?? .infinity
        #expect(values["probabilities"]!.floats.count == probabilities.count && diff < 1e-5, "max diff \(diff)")
    }

    /// A tabular model: `mass` had no blank in training (no indicator); blanks there are filled,
    /// counted, or refused, and the graph agrees.
    @Test func aTabularColumnWithoutBlanksInTrainingIsFilledAndCounted() throws {
        let data = try TrainCommandTests.writeCSV(ONNXTabularTests.trainingCSV())
        let out = TrainCommandTests.temporaryPath("tabular-missing")
        let new = try TrainCommandTests.writeCSV("island,bill,sex,mass\nDream,40,male,\nBiscoe,,female,NA\nTorgersen,41,male,3100\n")
        let predictions = new + ".out.csv"
        defer { for p in [data, out, new, predictions] { try? FileManager.default.removeItem(atPath: p) } }
        let t = try TrainCommandTests.run(["--data", data, "--target", "species", "--epochs", "20", "--threads", "1", "--out", out, "--quiet"])
        #expect(t.status == 0, "\(t.stderr)")
        let encoding = try #require(try Checkpoint.load(path: out + "/model.safetensors").encoding)
        let mass = try #require(encoding.columns.first { $0.name == "mass" })
        #expect(!mass.indicator && mass.fill != nil)
        let p = try PredictCommandTests.run(["--model", out + "/model.safetensors", "--data", new, "--output", predictions, "--threads", "1"])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stdout.contains("note: 2 values missing in 'mass', which had none in training; given its training median \(mass.fill!)"),
                "\(p.stdout)")
        #expect(!p.stdout.contains("missing in 'bill'"))  // bill has its indicator: nothing new
        let e = try PredictCommandTests.run(["--model", out + "/model.safetensors", "--data", new, "--on-missing", "error"])
        #expect(e.status != 0 && e.stderr.contains(":2:4: missing value in column 'mass'"), "\(e.stderr)")

        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: out + "/model.onnx")))
        let values = try ONNXInterpreter(graph: model.graph).run([
            "features": .init(shape: [3, 2], floats: [40, .nan, .nan, .nan, 41, 3100]),
            "categories": .init(shape: [3, 2], strings: ["Dream", "male", "Biscoe", "female", "Torgersen", "male"]),
        ])
        let expected = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        #expect(values["label"]!.strings == expected.map { String($0[0]) })
        let probabilities = expected.flatMap { $0.dropFirst().map { Float($0)! } }
        let diff = zip(values["probabilities"]!.floats, probabilities).map { abs($0 - $1) }.max() ?? .infinity
        #expect(diff < 1e-5, "max diff \(diff)")
    }

    /// ck_column_medians against sorting: NaN left out, ties, negative values, even and odd counts,
    /// a column without a value, and the same answer for any thread count.
    @Test(arguments: [1, 2, 5]) func columnMediansMatchSorting(threads: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let rows = 3001, width = 6
        var x = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows {
            x[r * width + 0] = Float.random(in: -1e6...1e6, using: &generator)
            x[r * width + 1] = Float(Int.random(in: -3...3, using: &generator))  // many ties
            x[r * width + 2] = r % 3 == 0 ? .nan : Float.random(in: 0...1, using: &generator)
            x[r * width + 3] = .nan
            x[r * width + 4] = r == rows - 1 ? .nan : Float.random(in: -1e-30...1e-30, using: &generator)  // an even count
            x[r * width + 5] = r % 3 == 0 ? -2.5 : r % 3 == 1 ? 0 : -0.0
        }
        let columns: [Int64] = [0, 1, 2, 3, 4, 5]
        var medians = [Float](repeating: 0, count: columns.count)
        #expect(ck_column_medians(x, Int64(rows), Int64(width), columns, Int64(columns.count), Int32(threads), &medians) == 0)
        for j in 0..<width {
            let v = stride(from: j, to: x.count, by: width).map { x[$0] }.filter { !$0.isNaN }.sorted()
            if v.isEmpty {
                #expect(medians[j].isNaN)
                continue
            }
            let expected = Float((Double(v[(v.count - 1) / 2]) + Double(v[v.count / 2])) / 2)
            #expect(medians[j] == expected, "column \(j): \(medians[j]) vs \(expected)")
        }
        // Columns that are not side by side (a tabular encoding's numeric inputs) take the general path.
        var some = [Float](repeating: 0, count: 3)
        #expect(ck_column_medians(x, Int64(rows), Int64(width), [5, 2, 0], 3, Int32(threads), &some) == 0)
        #expect(some == [medians[5], medians[2], medians[0]])
    }
}
