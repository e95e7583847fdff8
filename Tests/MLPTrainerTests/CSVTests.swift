import CKernels
import Foundation
import MLPTrainer
import Testing

/// A temporary file with `text`, unique per call; removed by `cleanup`.
private func tempFile(_ text: String, name: String = "data.csv") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("csvtests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try! Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

private func cleanup(_ path: String) {
    try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}

private func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

/// Options that make `names` numeric columns, so a value that is not a number is an error.
private func numeric(_ names: [String], _ options: CSVOptions = CSVOptions(threads: 2)) -> CSVOptions {
    var o = options
    o.columns.numeric = names
    return o
}

private func load(_ text: String, _ options: CSVOptions = CSVOptions(threads: 2), classLabels: [String]? = nil) throws -> Dataset {
    let path = tempFile(text)
    defer { cleanup(path) }
    return try loadCSV(path: path, options: options, classLabels: classLabels).0
}

/// The error message loading `text` gives, with the temporary path replaced by "data.csv".
private func errorMessage(_ text: String, _ options: CSVOptions = CSVOptions(threads: 2), classLabels: [String]? = nil) -> String? {
    let path = tempFile(text)
    defer { cleanup(path) }
    do {
        _ = try loadCSV(path: path, options: options, classLabels: classLabels)
        return nil
    } catch let error as DataError {
        return error.description.replacingOccurrences(of: path, with: "data.csv")
    } catch {
        return "unexpected \(error)"
    }
}

@Suite struct CSVTests {
    // MARK: Bank-note file

    @Test func banknoteFile() throws {
        let (d, report) = try loadCSV(path: fixture("banknote.csv"), options: CSVOptions(threads: 2))
        #expect(d.rows == 1372)
        #expect(d.featureCount == 4)
        #expect(d.featureNames == ["variance", "skewness", "curtosis", "entropy"])
        #expect(d.classLabels == ["0", "1"])
        #expect(d.labels.filter { $0 == 0 }.count == 762)
        #expect(d.labels.filter { $0 == 1 }.count == 610)
        #expect(Array(d.features[0..<4]) == [3.6216, 8.6661, -2.8073, -0.44699])
        #expect(report.rows == 1372 && report.features == 4 && report.invalidRows == 0 && !report.fromCache)
        #expect(report.bytes > 40000 && report.seconds > 0 && report.megabytesPerSecond > 0)
    }

    @Test func banknoteWithTrailingEmptyColumns() throws {
        let text = try String(contentsOfFile: fixture("banknote.csv"), encoding: .utf8)
        let reference = try load(text)
        // Every line ends with ",,," (a real copy of the file does), with CRLF.
        let variant = text.split(separator: "\n").map { $0 + ",,," }.joined(separator: "\r\n") + "\r\n"
        let d = try load(variant)
        #expect(d.rows == 1372 && d.featureNames == reference.featureNames && d.classLabels == ["0", "1"])
        #expect(d.features == reference.features && d.labels == reference.labels)
        // The header without the commas, rows with them.
        let lines = text.split(separator: "\n")
        let mixed = ([String(lines[0])] + lines.dropFirst().map { $0 + ",," }).joined(separator: "\n")
        let m = try load(mixed)
        #expect(m.features == reference.features && m.featureNames == reference.featureNames)
        // A value in an unnamed column that is empty on the first row is ignored, with a note.
        let path = tempFile("a,b,c,\n1,2,0,\n3,4,1,7\n")
        defer { cleanup(path) }
        let (stray, report) = try loadCSV(path: path, options: CSVOptions(threads: 1))
        #expect(stray.features == [1, 2, 3, 4] && stray.labels == [0, 1])
        #expect(report.notes == ["note: 1 value in unnamed columns after column 3 (first on line 3) ignored"])
        // A named column stays, so its empty value is missing.
        #expect(errorMessage("a,b,c\n1,2,\n") == "data.csv:2:3: missing label in column 'c'")
    }

    /// Without a header, a first row whose last feature is blank (label first, as HIGGS and datagen
    /// --label first) keeps that column: it was read as padding, one feature short, and the later
    /// rows' values in it ignored.
    @Test func headerlessFirstRowEndingWithABlankFeature() throws {
        let text = "1,0.5,\n0,1.5,2.5\n1,3,4\n0,5,6\n"
        for options in [CSVOptions(hasHeader: false, target: "0", threads: 1), CSVOptions(target: "0", threads: 2)] {
            let path = tempFile(text)
            defer { cleanup(path) }
            let (d, report) = try loadCSV(path: path, options: options)
            #expect(d.featureNames == ["x1", "x2", "x2_na"] && d.rows == 4 && report.notes.isEmpty, "\(report.notes)")
            #expect(d.labels == [1, 0, 1, 0] && Array(d.features[3..<9]) == [1.5, 2.5, 0, 3, 4, 0])
        }
        // The label last and blank on the first row is a missing label, not a shorter row.
        #expect(errorMessage("0.5,1,\n1.5,2.5,0\n3,4,1\n") == "data.csv:1:3: missing label in column 'target'")
        // Padding on every line stays padding, a stray value in it ignored, as with a header.
        let path = tempFile("1,2,0,,\n3,4,1,,\n5,6,0,x,\n")
        defer { cleanup(path) }
        let (padded, report) = try loadCSV(path: path, options: CSVOptions(threads: 1))
        #expect(padded.featureNames == ["x1", "x2"] && padded.labels == [0, 1, 0] && padded.features == [1, 2, 3, 4, 5, 6])
        #expect(report.notes == ["note: 1 value in unnamed columns after column 3 (first on line 3) ignored"])
    }

    // MARK: Formats

    @Test func stringLabelsSortAsStrings() throws {
        let d = try load("x,y,species\n1,2,versicolor\n3,4,setosa\n5,6,virginica\n7,8,setosa\n")
        #expect(d.classLabels == ["setosa", "versicolor", "virginica"])
        #expect(d.labels == [1, 0, 2, 0])
        #expect(d.featureNames == ["x", "y"])
    }

    @Test func numericLabelsSortNumericallyAndCanonically() throws {
        let d = try load("a,b\n1,10\n2,9\n3,1.0\n4,1\n5,+9.0\n6,1e1\n")
        #expect(d.classLabels == ["1", "9", "10"])
        #expect(d.labels == [2, 1, 0, 0, 1, 2])
        let h = try load("1,0.5\n2,-1\n3,0.5\n")
        #expect(h.classLabels == ["-1", "0.5"])
    }

    @Test func labelFirstAndTargetByNameOrIndex() throws {
        let text = "label,f1,f2\n1,0.5,0.25\n0,1.5,2.5\n"
        let byName = try load(text, CSVOptions(target: "label", threads: 1))
        #expect(byName.featureNames == ["f1", "f2"] && byName.features == [0.5, 0.25, 1.5, 2.5] && byName.labels == [1, 0])
        let byIndex = try load(text, CSVOptions(target: "0", threads: 1))
        #expect(byIndex.features == byName.features && byIndex.featureNames == byName.featureNames)
        // No header, label first (HIGGS): names x1..xF.
        let higgs = "1.000000000000000000e+00,8.692932128906250000e-01,-6.350818276405334473e-01\n"
            + "0.000000000000000000e+00,9.075421094894409180e-01,3.291472792625427246e-01\n"
        let h = try load(higgs, CSVOptions(target: "0", threads: 2))
        #expect(h.featureNames == ["x1", "x2"] && h.classLabels == ["0", "1"] && h.labels == [1, 0])
        #expect(h.features == [0.8692932128906250, -0.6350818276405334473, 0.9075421094894409180, 0.3291472792625427246])
    }

    @Test func headerDetectionAndForcing() throws {
        // A numeric first line is data.
        let d = try load("1,2,0\n3,4,1\n")
        #expect(d.rows == 2 && d.featureNames == ["x1", "x2"])
        // A string label alone does not make a header.
        let s = try load("1,2,cat\n3,4,dog\n")
        #expect(s.rows == 2 && s.classLabels == ["cat", "dog"])
        // Forced header on numbers; forced no header makes a text row invalid.
        let f = try load("10,20,0\n3,4,1\n5,6,0\n", CSVOptions(hasHeader: true, threads: 1))
        #expect(f.rows == 2 && f.featureNames == ["10", "20"])
        #expect(errorMessage("a,b,c\n1,2,0\n", numeric(["x1"], CSVOptions(hasHeader: false, threads: 1)))
            == "data.csv:1:1: invalid number \"a\" in column 'x1'")
    }

    @Test func bomCRLFQuotesBlankLinesAndSpaces() throws {
        let text = "\u{FEFF}\"a\",\"b, with comma\",class\r\n\r\n\"1.5\", 2 ,\"yes\"\r\n\n  -3 ,\"4e1\",\"no \"\"really\"\"\"\r\n\r\n5,.5,yes"
        let d = try load(text)
        #expect(d.featureNames == ["a", "b, with comma"])
        #expect(d.features == [1.5, 2, -3, 40, 5, 0.5])
        #expect(d.classLabels == ["no \"really\"", "yes"])
        #expect(d.labels == [1, 0, 1])
    }

    @Test func semicolonAndTab() throws {
        let semi = try load("a;b;y\n1,5;2;0\n3;4;1\n5;6;0\n", numeric(["a"], CSVOptions(delimiter: UInt8(ascii: ";"), dropInvalidRows: true, threads: 1)))
        #expect(semi.rows == 2 && semi.features == [3, 4, 5, 6])  // "1,5" is not a number (no decimal comma)
        let tab = try load("a\tb\ty\n1.25\t2\t0\n3\t-4\t1\n", CSVOptions(delimiter: UInt8(ascii: "\t"), threads: 2))
        #expect(tab.features == [1.25, 2, 3, -4] && tab.featureNames == ["a", "b"])
    }

    @Test func nonFiniteOnlyWhenAllowed() throws {
        let text = "a,b,y\ninf,-Infinity,0\nNaN,1,1\n"
        #expect(errorMessage(text) == "data.csv:2:1: non-finite value \"inf\" in column 'a' (not allowed)")
        let d = try load(text, CSVOptions(allowNonFinite: true, threads: 1))
        #expect(d.features[0] == .infinity && d.features[1] == -.infinity && d.features[2].isNaN && d.features[3] == 1)
    }

    // MARK: Errors

    @Test func errorMessages() {
        #expect(errorMessage("variance,skewness,class\n1,2,0\n3,abc,1\n", numeric(["skewness"]))
            == "data.csv:3:2: invalid number \"abc\" in column 'skewness'")
        #expect(errorMessage("a,b,c,d,e\n1,2,3,4,0\n1,2,3,0\n") == "data.csv:3: expected 5 fields, found 4")
        #expect(errorMessage("a,b,c\n1,2,0\n\n1,2,3,0\n") == "data.csv:4: expected 3 fields, found 4")
        #expect(errorMessage("a,b,c\n1,x,0\n4,5,\n") == "data.csv:3:3: missing label in column 'c'")
        #expect(errorMessage("a,b,c\n1,2,\n") == "data.csv:2:3: missing label in column 'c'")
        #expect(errorMessage("a,b,c\n1,1e39,0\n") == "data.csv:2:2: number \"1e39\" out of float32 range in column 'b'")
        #expect(errorMessage("a,b,c\n1,\"2,0\n") == "data.csv:2:2: malformed quoted field \"2,0")
        #expect(errorMessage("a,b,c\n1,2,0\n1,\"2\"x,0\n") == "data.csv:3:2: malformed quoted field \"2\"x,0")
        #expect(errorMessage("a,b,c\n") == "data.csv: no data rows")
        #expect(errorMessage("") == "data.csv: no data rows")
        #expect(errorMessage("\n\r\n") == "data.csv: no data rows")
        #expect(errorMessage("a,b,c\n1,2,0\n", CSVOptions(target: "foo", threads: 1))
            == "data.csv: unknown target column 'foo' (columns: a, b, c)")
        #expect(errorMessage("a,b,c\n1,2,0\n3,4,0\n") == "data.csv: only one class ('0'); need at least two")
        #expect(errorMessage("a,b,c\n1,2,0\n3,4,1\n5,6,2\n", classLabels: ["0", "1"])
            == "data.csv:4:3: unknown label '2' in column 'c' (classes: 0, 1)")
        // The first unknown label in the file, not the first by name.
        #expect(errorMessage("a,b,c\n1,2,0\n3,4,zeta\n5,6,alpha\n", classLabels: ["0", "1"])
            == "data.csv:3:3: unknown label 'zeta' in column 'c' (classes: 0, 1)")
        #expect(throws: DataError("/nonexistent/data.csv: no such file")) {
            try loadCSV(path: "/nonexistent/data.csv", options: CSVOptions(threads: 1))
        }
        // Every message is one line.
        #expect(errorMessage("a,b,c\n1,\"x\ny\",0\n")?.contains("\n") == false)
    }

    @Test func errorsAreTheFirstInTheFileForAnyChunking() {
        var text = "a,b,c\n"
        for i in 0..<300 { text += "\(i),\(i * 2),\(i % 2)\n" }
        text += "1,bad,0\n"
        for i in 0..<100 { text += "\(i),x\(i),\(i % 2)\n" }
        for chunk in [1, 7, 64, 1000, 0] {
            #expect(errorMessage(text, numeric(["b"], CSVOptions(threads: 2, chunkBytes: chunk)))
                == "data.csv:302:2: invalid number \"bad\" in column 'b'")
        }
    }

    /// README, "What the trainer guarantees": a control character (a byte below 0x20 but tab) inside a
    /// field is an error naming its line, column and byte, wherever it is (a number, a label, a quoted
    /// field, a string column, the header, a surplus field) and whichever pass meets it, for any
    /// chunking and even with --drop-invalid-rows: a NUL or a stray CR would otherwise silently make a
    /// number column categorical or a label a class of its own.
    @Test func controlCharactersInAFieldAreErrors() {
        let cases: [(String, String)] = [
            ("a,b,y\n1,2,0\n3,4\u{0},1\n", "3:2: control character 0x00 (NUL) in a field of column 'b'"),
            ("a,b,y\n1,2,0\n1.5\r,4,1\n", "3:1: control character 0x0D (a carriage return inside the line) in a field of column 'a'"),
            ("a,b,y\n1,2,0\r\r\n3,4,1\n", "2:3: control character 0x0D (a carriage return inside the line) in a field of column 'y'"),
            ("a,b,y\n1,2,0\n3,4,y\u{1}es\n", "3:3: control character 0x01 in a field of column 'y'"),
            ("a,b,y\n1,\"2\u{7}\",0\n", "2:2: control character 0x07 in a field of column 'b'"),
            ("k,a,y\nx,1,0\nz\u{1B},2,1\n", "3:1: control character 0x1B in a field of column 'k'"),
            ("a,b\u{0},y\n1,2,0\n", "1:2: control character 0x00 (NUL) in a field"),
            ("a,b,y\n1,2,0\n3,4,1,\u{0}\n", "3:4: control character 0x00 (NUL) in a field"),
        ]
        for (text, message) in cases {
            for options in [CSVOptions(threads: 2), CSVOptions(dropInvalidRows: true, threads: 2, chunkBytes: 5), numeric(["a"])] {
                let got = errorMessage(text, options)
                #expect(got?.hasPrefix("data.csv:" + message) == true, "\(text.debugDescription): \(got ?? "no error")")
            }
        }
    }

    /// Tab is the one control character a field may hold (with another delimiter), and CR the one a
    /// line may end with.
    @Test func tabsInFieldsAndCRLFLineEndsAreFine() throws {
        let d = try load("k,a,y\r\nx\ty,1,0\r\nz, 2\t,1\r\n")
        #expect(d.featureNames == ["k=x\ty", "k=z", "a"] && d.features == [1, 0, 1, 0, 1, 2])
    }

    @Test func dropInvalidRows() throws {
        let text = "a,b,c\n1,2,0\n3,x,1\n4,,0\n5,6,1\n7,inf,0\n8,9,\n10,11,1\n"
        let path = tempFile(text)
        defer { cleanup(path) }
        // b numeric: "x" and "inf" are invalid, the blank is missing (NaN until filled), the row without a label is dropped.
        let (d, report) = try loadCSV(path: path, options: numeric(["b"], CSVOptions(dropInvalidRows: true, threads: 2, chunkBytes: 5)))
        #expect(d.rows == 4 && report.invalidRows == 3 && report.rows == 4)
        #expect(d.featureNames == ["a", "b", "b_na"] && d.labels == [0, 0, 1, 1])
        #expect(d.features.map { $0.isNaN ? -1 : $0 } == [1, 2, 0, 4, -1, 1, 5, 6, 0, 10, 11, 0])
        // Ragged rows stay errors.
        #expect(errorMessage("a,b,c\n1,2,0\n3,x\n", CSVOptions(dropInvalidRows: true, threads: 1)) == "data.csv:3: expected 3 fields, found 2")
    }

    @Test func evaluationSetUsesTrainingClasses() throws {
        let d = try load("a,b,c\n1,2,1\n3,4,1\n", classLabels: ["0", "1"])
        #expect(d.classLabels == ["0", "1"] && d.labels == [1, 1])
        let n = try load("a,b,c\n1,2,1.0\n3,4,0\n", classLabels: ["1", "0"])
        #expect(n.labels == [0, 1])
    }

    // MARK: Chunking

    @Test func chunkBoundariesAnywhereGiveTheSameMatrix() throws {
        var text = "f1,f2,f3,label\n"
        let problem = SyntheticProblem(features: 3, classes: 3, seed: 5)
        var row = [Float](repeating: 0, count: 3)
        for r in 0..<200 {
            let y = row.withUnsafeMutableBufferPointer { problem.row(r, into: $0.baseAddress!) }
            let sep = r % 7 == 0 ? "\r\n" : "\n"
            text += row.map { r % 3 == 0 ? String(format: "%.18e", Double($0)) : "\($0)" }.joined(separator: ",") + ",c\(y)" + sep
            if r % 11 == 0 { text += "\n" }
            if r % 13 == 0 { text += "\r\n" }
        }
        let path = tempFile(text)
        defer { cleanup(path) }
        let reference = try loadCSV(path: path, options: CSVOptions(threads: 1, chunkBytes: 1 << 30)).0
        #expect(reference.rows == 200 && reference.classLabels == ["c0", "c1", "c2"])
        let expected = problem.dataset(rows: 200)
        #expect(reference.features == expected.features && reference.labels == expected.labels)
        for chunk in Array(1...64) + [97, 128, 255, 1000, 4096] {
            for threads in [1, 2, 3] {
                let d = try loadCSV(path: path, options: CSVOptions(threads: threads, chunkBytes: chunk)).0
                #expect(d.features == reference.features && d.labels == reference.labels && d.classLabels == reference.classLabels,
                        "chunk \(chunk) threads \(threads)")
            }
        }
    }

    /// The matrix is reserved from the rows per byte of the whole file; a first chunk of much shorter
    /// lines than the rest outgrows its share, and the loader counts the rows and parses again.
    @Test func aChunkBeyondItsShareOfRowsIsCountedAndParsedAgain() throws {
        var text = "a,b,c\n"
        for i in 0..<3000 { text += "\(i),\(i),\(i % 2)\n" }
        for i in 3000..<3200 { text += "\(i)" + String(repeating: " ", count: 2000) + ",\(i),\(i % 2)\n" }
        let path = tempFile(text)
        defer { cleanup(path) }
        let half = text.utf8.count / 2
        var size: Int64 = 0
        let data = try #require(ck_csv_map(path, &size))
        defer { ck_csv_unmap(data, size) }
        var spec = ck_csv_spec()
        (spec.data, spec.size, spec.begin, spec.fields, spec.min_fields, spec.target) = (data, size, 6, 3, 3, 2)
        (spec.delimiter, spec.threads, spec.chunk_bytes) = (CChar(UInt8(ascii: ",")), 1, Int64(half))
        let capacity = Int(ck_csv_row_capacity(&spec))
        var x = [Float](repeating: 0, count: capacity * 2), y = [Int32](repeating: 0, count: capacity)
        var result = ck_csv_result()
        #expect(ck_csv_parse(&spec, nil, &x, &y, &result) == Int32(CK_CSV_ERR_CAPACITY.rawValue))
        ck_csv_result_free(&result)
        for threads in [1, 2] {
            let d = try loadCSV(path: path, options: CSVOptions(threads: threads, chunkBytes: half)).0
            #expect(d.features == (0..<3200).flatMap { [Float($0), Float($0)] } && d.labels == (0..<3200).map { Int32($0 % 2) })
        }
    }

    // MARK: Cache

    @Test func cacheRoundTripAndInvalidation() throws {
        let path = tempFile("a,b,y\n1.5,2,cat\n3,4,dog\n")
        defer { cleanup(path) }
        let options = CSVOptions(threads: 2, cache: true)
        let (first, r1) = try loadCSV(path: path, options: options)
        #expect(!r1.fromCache)
        let dir = (path as NSString).deletingLastPathComponent
        for suffix in ["features.npy", "labels.npy", "cache.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/data.csv.\(suffix)"))
        }
        // The .npy is NumPy format 1.0 with the right header.
        let npy = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/data.csv.features.npy"))
        #expect(npy.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        #expect(String(decoding: npy.prefix(128), as: UTF8.self).contains("'shape': (2, 2)"))
        #expect((npy.count - 16) % 64 == 0)  // header padded to 64 bytes, then 4 floats
        let (second, r2) = try loadCSV(path: path, options: options)
        #expect(r2.fromCache && r2.rows == 2 && r2.features == 2)
        #expect(second.features == first.features && second.labels == first.labels)
        #expect(second.featureNames == first.featureNames && second.classLabels == first.classLabels)
        // Evaluation classes through the cache, with the line of an unknown label.
        #expect(throws: DataError("\(path):3:3: unknown label 'dog' in column 'y' (classes: cat)")) {
            try loadCSV(path: path, options: options, classLabels: ["cat"])
        }
        // Different options do not use it.
        let (_, r3) = try loadCSV(path: path, options: CSVOptions(dropInvalidRows: true, threads: 2, cache: true))
        #expect(!r3.fromCache)
        // Changing the source invalidates it.
        try Data("a,b,y\n1.5,2,cat\n3,4,dog\n5,6,cat\n".utf8).write(to: URL(fileURLWithPath: path))
        let (third, r4) = try loadCSV(path: path, options: options)
        #expect(!r4.fromCache && third.rows == 3)
        let (fourth, r5) = try loadCSV(path: path, options: options)
        #expect(r5.fromCache && fourth.rows == 3 && fourth.features == third.features)
        // A cache directory.
        let cacheDir = dir + "/cache"
        let withDir = CSVOptions(threads: 1, cache: true, cacheDirectory: cacheDir)
        _ = try loadCSV(path: path, options: withDir)
        #expect(try loadCSV(path: path, options: withDir).1.fromCache)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cacheDir).filter { $0.hasSuffix(".npy") }.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.contains(".tmp-") })
    }

    /// A file with a string column and blanks: the cache holds the encoded matrix (NaN where a number
    /// is missing), the column encoding and the loader's notes; other column options miss it.
    @Test func cacheKeepsTheColumnEncodingOfAStringsAndBlanksFile() throws {
        var text = "island,bill,note,y\n"
        for i in 0..<40 { text += "\(["Dream", "Biscoe", "NA"][i % 3]),\(i % 4 == 0 ? "" : String(i)),\(i == 5 ? "x" : ""),\(i % 2)\n" }
        let path = tempFile(text)
        defer { cleanup(path) }
        let options = CSVOptions(threads: 2, cache: true)
        let (first, r1) = try loadCSV(path: path, options: options)
        let (second, r2) = try loadCSV(path: path, options: options)
        #expect(!r1.fromCache && r2.fromCache)
        #expect(first.encoding != nil && second.encoding == first.encoding)
        #expect(second.features.count == first.features.count
                && zip(second.features, first.features).allSatisfy { $0.bitPattern == $1.bitPattern })
        #expect(second.features.contains { $0.isNaN } && r2.notes == r1.notes && second.featureNames == first.featureNames)
        var other = options
        other.columns.categorical = ["bill"]
        #expect(try !loadCSV(path: path, options: other).1.fromCache)
    }
}
