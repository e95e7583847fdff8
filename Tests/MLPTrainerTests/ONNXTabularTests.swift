import Foundation
import MLPTrainer
import ONNXProto
import Testing

/// model.onnx of a run with string columns and blanks: the graph takes the raw columns (numbers with
/// NaN for missing, categories as text) and gives what `predict` gives on the same CSV rows,
/// including missing-value tokens, blanks, an unseen category and a folded one.
@Suite struct ONNXTabularTests {
    /// island: 5 values, 4 slots (--max-categories 4: the two rarest fold into <other>); bill: numeric
    /// with blanks (median fill + indicator); sex: categorical with "NA" (missing is a category);
    /// mass: numeric without blanks.
    static func trainingCSV() -> String {
        var text = "species,island,bill,sex,mass\n"
        for i in 0..<150 {
            let kind = i % 3
            let island = i % 10 == 9 ? "Cuverville" : i % 10 == 4 ? "Anvers" : ["Torgersen", "Biscoe", "Dream"][kind]
            let bill = i % 5 == 0 ? "" : String(38 + 5 * kind + i % 4)
            let sex = i % 7 == 0 ? "NA" : (i % 2 == 0 ? "male" : "female")
            text += "\(["Adelie", "Gentoo", "Chinstrap"][kind]),\(island),\(bill),\(sex),\(3000 + 100 * kind + i % 13)\n"
        }
        return text
    }

    /// Rows for the graph and predict: tokens, blanks, unseen and folded categories, columns reordered.
    static let newRows = [
        ["Dream", "", "male", "3300"], ["Atlantis", "41", "NA", "3100"], ["Cuverville", "47", "", "3205"],
        ["Biscoe", "44", "N/A", "3150"], ["Torgersen", "", "null", "3012"], ["", "39", "female", "3222"],
    ]

    @Test func graphOfAStringAndBlanksRunMatchesPredict() throws {
        let data = try TrainCommandTests.writeCSV(Self.trainingCSV())
        let out = TrainCommandTests.temporaryPath("onnx-tabular")
        let new = try TrainCommandTests.writeCSV("mass,sex,bill,island\n" + Self.newRows.map { [$0[3], $0[2], $0[1], $0[0]].joined(separator: ",") }
            .joined(separator: "\n") + "\n")
        let predictions = new + ".out.csv"
        defer { for p in [data, out, new, predictions] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try TrainCommandTests.run(["--data", data, "--target", "species", "--max-categories", "4", "--epochs", "30",
                                           "--threads", "1", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let p = try PredictCommandTests.run(["--model", out + "/model.safetensors", "--data", new, "--output", predictions, "--threads", "1"])
        #expect(p.status == 0, "\(p.stderr)")

        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: out + "/model.onnx")))
        #expect(model.graph.input.map(\.name) == ["features", "categories"])
        #expect(model.opsetImport.contains { $0.domain == "ai.onnx.ml" && $0.version == 1 })
        let features = Self.newRows.flatMap { [Float($0[1]) ?? .nan, Float($0[3])!] }
        let categories = Self.newRows.flatMap { [$0[0], $0[2]] }
        let values = try ONNXInterpreter(graph: model.graph).run([
            "features": .init(shape: [Self.newRows.count, 2], floats: features),
            "categories": .init(shape: [Self.newRows.count, 2], strings: categories),
        ])
        let lines = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n").dropFirst()
        let expected = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(values["label"]!.strings == expected.map { String($0[0]) })
        let probabilities = expected.flatMap { $0.dropFirst().map { Float($0)! } }
        let diff = zip(values["probabilities"]!.floats, probabilities).map { abs($0 - $1) }.max() ?? .infinity
        #expect(values["probabilities"]!.floats.count == probabilities.count && diff < 1e-5, "max diff \(diff)")
        // The encoded input row by row, as the column encoding names them: Atlantis and Cuverville
        // are <other>, "N/A" and "null" the missing category, a blank bill the median with its indicator.
        let encoding = try #require(try Checkpoint.load(path: out + "/model.safetensors").encoding)
        let names = encoding.inputNames, encoded = values["encoded"]!.floats
        func input(_ row: Int, _ name: String) -> Float { encoded[row * names.count + names.firstIndex(of: name)!] }
        #expect(input(1, "island=<other>") == 1 && input(2, "island=<other>") == 1 && input(0, "island=<other>") == 0)
        #expect(input(3, "sex=<missing>") == 1 && input(4, "sex=<missing>") == 1 && input(2, "sex=<missing>") == 1)
        #expect(input(0, "bill_na") == 1 && input(0, "bill") == encoding.columns[1].fill && input(1, "bill_na") == 0)
    }
}
