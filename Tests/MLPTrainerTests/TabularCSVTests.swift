import CKernels
import Foundation
import MLPTrainer
import Testing

/// String columns, blanks and column selection (README, "String columns and blanks").
@Suite struct TabularCSVTests {
    static let penguins = """
        species,island,bill_length_mm,flipper,sex
        Adelie,Torgersen,39.1,181,male
        Adelie,Torgersen,NA,186,female
        Adelie,Biscoe,40.3,,
        Gentoo,Biscoe,46.1,211,female
        Gentoo,Biscoe,?,230,male
        Gentoo,Biscoe,48.7,210,female
        Chinstrap,Dream,46.5,192,female
        Chinstrap,Dream,50.0,196,male

        """

    static func load(_ text: String, _ options: CSVOptions) throws -> (Dataset, LoadReport) {
        let path = try TrainCommandTests.writeCSV(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try loadCSV(path: path, options: options)
    }

    static func options(target: String = "species", threads: Int = 2, chunkBytes: Int = 0,
                        _ configure: (inout ColumnOptions) -> Void = { _ in }) -> CSVOptions {
        var o = CSVOptions(target: target, threads: threads, chunkBytes: chunkBytes)
        configure(&o.columns)
        return o
    }

    @Test func kindsOneHotMedianAndIndicators() throws {
        var (d, _) = try Self.load(Self.penguins, Self.options())
        #expect(d.featureNames == ["island=Biscoe", "island=Torgersen", "island=Dream", "bill_length_mm", "bill_length_mm_na",
                                   "flipper", "flipper_na", "sex=female", "sex=male", "sex=<missing>"])
        #expect(d.classLabels == ["Adelie", "Chinstrap", "Gentoo"])
        var encoding = try #require(d.encoding)
        #expect(encoding.columns.map(\.kind) == [.categorical, .numeric, .numeric, .categorical])
        encoding.fitFills(on: d)
        // Medians of the non-missing values: bill 39.1 40.3 46.1 46.5 48.7 50.0 -> (46.1 + 46.5) / 2.
        #expect(encoding.columns[1].fill == 46.3 && encoding.columns[2].fill == 196)
        encoding.fillMissing(&d)
        let row2 = Array(d.features[10..<20]), row3 = Array(d.features[20..<30])
        #expect(row2 == [0, 1, 0, 46.3, 1, 186, 0, 1, 0, 0])
        #expect(row3 == [1, 0, 0, 40.3, 0, 196, 1, 0, 0, 1])
    }

    @Test func forcedKindsAndFolding() throws {
        let (d, _) = try Self.load(Self.penguins, Self.options {
            $0.categorical = ["flipper"]
            $0.maxCategories = 2
            $0.naValues = ["NA"]
        })
        let encoding = try #require(d.encoding)
        // "?" is a category now, so bill_length_mm is categorical; folding keeps 1 + <other>.
        #expect(encoding.columns.map(\.kind) == [.categorical, .categorical, .categorical, .categorical])
        #expect(encoding.columns[0].categories == ["Biscoe"] && encoding.columns[0].other)
        #expect(d.featureNames.prefix(2) == ["island=Biscoe", "island=<other>"])
        #expect(encoding.columns[2].categories == ["181"] && encoding.columns[2].inputNames == ["flipper=181", "flipper=<other>"])
    }

    @Test func selectionByNameAndIndex() throws {
        let byName = try Self.load(Self.penguins, Self.options { $0.features = ["flipper", "island"] }).0
        let byIndex = try Self.load(Self.penguins, Self.options { $0.ignore = ["2", "sex"] }).0
        #expect(byName.featureNames == ["island=Biscoe", "island=Torgersen", "island=Dream", "flipper", "flipper_na"])
        #expect(byIndex.featureNames == byName.featureNames)
        #expect(byIndex.features.map { $0.isNaN ? -1 : $0 } == byName.features.map { $0.isNaN ? -1 : $0 })
        #expect(throws: DataError.self) { try Self.load(Self.penguins, Self.options { $0.features = ["beak"] }) }
    }

    @Test func categoryOrderDoesNotDependOnThreadsOrChunks() throws {
        var text = "city,x,y\n"
        for i in 0..<3000 { text += "c\((i * 7919) % 97),\(i % 13),\(i % 2)\n" }
        let one = try Self.load(text, Self.options(target: "y", threads: 1))
        let many = try Self.load(text, Self.options(target: "y", threads: 16, chunkBytes: 100))
        #expect(one.0.featureNames == many.0.featureNames && one.0.features == many.0.features)
        #expect(one.0.labels == many.0.labels)
    }

    /// Training expands the rows its survey kept; a file read with a model's encoding is written from
    /// the text: the two give the same matrix, bit for bit (missing numbers NaN before the fills).
    @Test func keptRowsExpandToWhatTheTextWrites() throws {
        var text = "city,x,n,y\n"
        for i in 0..<3000 {
            text += "\(i % 11 == 0 ? "" : "c\((i * 7919) % 97)"),\(i % 7 == 0 ? "NA" : "\(i % 13).5"),\(i % 5),\(["a", "b", "c"][i % 3])\n"
        }
        let path = try TrainCommandTests.writeCSV(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let options = Self.options(target: "y", threads: 16, chunkBytes: 100) { $0.maxCategories = 40 }
        let (trained, _) = try loadCSV(path: path, options: options)
        let (read, _) = try loadCSV(path: path, options: options, encoding: trained.encoding)
        #expect(trained.featureNames.count == 43 && read.featureNames == trained.featureNames)
        #expect(read.features.map(\.bitPattern) == trained.features.map(\.bitPattern))
        #expect(read.labels == trained.labels && read.classLabels == trained.classLabels)
    }

    @Test func unnamedEmptyColumnsAndMostlyMissingOnes() throws {
        let (d, report) = try Self.load("a,,b,c,y\n1,,5,,0\n2,,,,1\n3,,,7,0\n", CSVOptions(threads: 1))
        #expect(d.featureNames == ["a", "b", "b_na", "c", "c_na"])
        #expect(report.notes == ["note: column 2 (no name) is empty on every row; dropped",
                                 "note: column 'b' is missing on 2 of 3 rows", "note: column 'c' is missing on 2 of 3 rows"])
    }

    /// A number column made categorical by a few texts (a missing-value marker not in --na-values, a
    /// typo) says so, naming the first one and its line; a column of strings, or one forced
    /// categorical, does not.
    @Test func aFewTextsInANumberColumnGetANote() throws {
        var text = "a,k,y\n"
        for i in 0..<100 { text += "\(i == 10 || i == 30 ? "n/a" : i == 20 ? "1.5x" : "\(i).5"),\(i % 3 == 0 ? "s" : "t"),\(i % 2)\n" }
        let expected = "note: column 'a' is read as categorical because 3 of its 100 values are not a number (the first on "
            + "line 12: \"n/a\"); if it is numeric, name such markers of a missing value with --na-values, or give --numeric a"
        for chunkBytes in [0, 16] {
            let (_, report) = try Self.load(text, Self.options(target: "y", chunkBytes: chunkBytes))
            #expect(report.notes == [expected], "\(report.notes)")
        }
        let (_, forced) = try Self.load(text, Self.options(target: "y") { $0.categorical = ["a"] })
        #expect(forced.notes.isEmpty, "\(forced.notes)")
        // One text in 19 values is more than 1 in 20: a column of codes, not of numbers.
        let (_, few) = try Self.load("a,y\n" + (0..<19).map { "\($0 == 5 ? "x" : "\($0)"),\($0 % 2)\n" }.joined(), Self.options(target: "y"))
        #expect(few.notes.isEmpty, "\(few.notes)")
    }

    @Test func foldingTiesKeepFirstAppearance() throws {
        var text = "id,y\n"
        for i in 0..<10 { text += "s\(i),\(i % 2)\n" }
        let (d, _) = try Self.load(text, Self.options(target: "y") { $0.maxCategories = 4 })
        #expect(d.featureNames == ["id=s0", "id=s1", "id=s2", "id=<other>"])
    }

    @Test func syntheticCategoriesFollowTheLabelAndBlanksTheirFraction() {
        let problem = SyntheticProblem(features: 4, classes: 3, seed: 1)
        let rows = 30000
        var home = 0, blanks = 0
        for r in 0..<rows {
            let y = r % 3
            if problem.category(row: r, column: 1, label: Int32(y), cardinality: 8) == "v\((y * 7 + 3) % 8)" { home += 1 }
            if problem.isBlank(row: r, column: 5, fraction: 0.05) { blanks += 1 }
        }
        // 2/3 + 1/3 * 1/8 = 0.708 of the rows take their class's category.
        #expect(abs(Double(home) / Double(rows) - 0.7083) < 0.01)
        #expect(abs(Double(blanks) / Double(rows) - 0.05) < 0.005)
        #expect(problem.category(row: 7, column: 0, label: 1, cardinality: 8) == problem.category(row: 7, column: 0, label: 1, cardinality: 8))
    }

    /// `--category-frequency zipf`: a long tail of values, each tied to a class.
    @Test func zipfCategoriesHaveALongTailTiedToTheLabel() {
        let problem = SyntheticProblem(features: 4, classes: 3, seed: 1)
        let rows = 30000
        var counts: [String: Int] = [:], own = 0
        for r in 0..<rows {
            let y = r % 3, value = problem.category(row: r, column: 0, label: Int32(y), cardinality: 1000, frequency: .zipf)
            counts[value, default: 0] += 1
            if Int(value.dropFirst())! % 3 == y { own += 1 }
        }
        // 2/3 of the rows take a value of their class, the others one of any class (1/3 of them theirs).
        #expect(abs(Double(own) / Double(rows) - 0.7778) < 0.01, "\(own)")
        #expect(counts.count > 900 && counts.keys.allSatisfy { Int($0.dropFirst())! < 1000 })
        #expect(counts["v0", default: 0] > 50 * max(1, counts["v999", default: 0]), "\(counts["v0", default: 0]) \(counts["v999", default: 0])")
    }

    // MARK: - train and predict

    @Test func predictFindsColumnsByNameAndCountsUnseenCategories() throws {
        var text = "species,island,bill,sex\n"
        for i in 0..<120 {
            let kind = i % 3
            text += "\(["Adelie", "Gentoo", "Chinstrap"][kind]),\(["Torgersen", "Biscoe", "Dream"][kind]),"
                + "\(i % 5 == 0 ? "" : String(38 + 5 * kind + i % 4)),\(i % 2 == 0 ? "male" : "female")\n"
        }
        let path = try TrainCommandTests.writeCSV(text)
        let out = TrainCommandTests.temporaryPath("tabular")
        defer { for p in [path, out] { try? FileManager.default.removeItem(atPath: p) } }
        let r = try TrainCommandTests.run(["--data", path, "--target", "species", "--epochs", "40", "--threads", "2",
                                           "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/model.onnx"))
        // Columns reordered, one unseen island, blanks everywhere, an extra column, labels present.
        let new = try TrainCommandTests.writeCSV("sex,extra,bill,island,species\nmale,1,40,Atlantis,Adelie\n,2,,Dream,Chinstrap\n")
        let predictions = new + ".out.csv"
        defer { for p in [new, predictions] { try? FileManager.default.removeItem(atPath: p) } }
        let p = try PredictCommandTests.run(["--model", out + "/model.safetensors", "--data", new, "--output", predictions])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stdout.contains("note: 1 value of 'island' not among its training categories (no input hot)"))
        #expect(p.stdout.contains("precision"))
        #expect(try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n").count == 3)
        // A column the model needs is missing: one line, nothing written.
        let bad = try TrainCommandTests.writeCSV("sex,bill\nmale,40\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let e = try PredictCommandTests.run(["--model", out + "/model.safetensors", "--data", bad])
        #expect(e.status != 0 && e.stderr.contains("no column 'island', which the model needs"), "\(e.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bad + ".predictions.csv"))
    }

    /// The bank-note file as its repository has it: CRLF, ",,," on every line, a URL in the 8th
    /// field of one line. It trains to the clean file's model with the seed's recipe.
    @Test func rawBanknoteTrainsAsTheCleanFile() throws {
        let clean = try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8)
        var lines = clean.split(separator: "\n").map { $0 + ",,," }
        lines[8] += "https://archive.ics.uci.edu/ml/datasets/banknote+authentication"
        let raw = try TrainCommandTests.writeCSV(lines.joined(separator: "\r\n") + "\r\n")
        let outs = [TrainCommandTests.temporaryPath("clean"), TrainCommandTests.temporaryPath("raw")]
        defer { for p in outs + [raw] { try? FileManager.default.removeItem(atPath: p) } }
        var summaries: [[String: Any]] = []
        for (data, out) in zip([TrainCommandTests.banknote, raw], outs) {
            let r = try TrainCommandTests.run(["--data", data, "--preset", "seed", "--threads", "2", "--out", out])
            #expect(r.status == 0, "\(r.stderr)")
            if data == raw { #expect(r.stdout.contains("note: 1 value in unnamed columns after column 5 (first on line 9) ignored")) }
            #expect(FileManager.default.fileExists(atPath: out + "/model.onnx"))
            let json = try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))
            summaries.append(try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:])
        }
        #expect(summaries[1]["test_rows"] as? Double == 275 && summaries[0]["test_rows"] as? Double == 275)
        #expect(summaries[1]["test_accuracy"] as? Double == summaries[0]["test_accuracy"] as? Double)
    }
}

/// The C passes behind the tabular loader (CKernels/csv_table.c) against Swift's own reading of the
/// same bytes.
@Suite struct TabularCSVPassTests {
    /// Short values are counted through a cache in front of each thread's value table: the counts
    /// (hence the most-frequent-first order) and the one-hot rows stay the texts' own whatever the
    /// length (the cache takes 1-7 bytes), quoting, bytes >= 0x80, evictions (28 values, 16 slots) or
    /// the file's last field (no newline after it), on 1 and on 16 threads.
    @Test func shortValueCountsAreExact() throws {
        let spellings = ["a", "bb", "ccc", "ggggggg", "hhhhhhhh", "é", "\"ab\"", "ab"] + (0..<20).map { "k\($0)" }
        var fields: [String] = []
        for (j, v) in spellings.enumerated() { fields += Array(repeating: v, count: 2 * j + 1) }
        fields = fields.indices.sorted { ($0 * 7919) % fields.count < ($1 * 7919) % fields.count }.map { fields[$0] }
        let text = "c,y\n" + fields.enumerated().map { "\($0.1),\($0.0 % 2)" }.joined(separator: "\n")
        let texts = fields.map { $0 == "\"ab\"" ? "ab" : $0 }
        var counts: [String: Int] = [:]
        for t in texts { counts[t, default: 0] += 1 }
        let expected = counts.keys.sorted { counts[$0]! > counts[$1]! }  // no two counts tie
        for options in [TabularCSVTests.options(target: "y", threads: 1), TabularCSVTests.options(target: "y", threads: 16, chunkBytes: 100)] {
            let (d, _) = try TabularCSVTests.load(text, options)
            #expect(d.featureNames == expected.map { "c=" + $0 })
            #expect(d.features == texts.flatMap { t in expected.map { $0 == t ? 1 : 0 } })
        }
    }

    /// Each instruction set's survey (its line splitter, 64 bytes at a time, and its number scanner)
    /// gives the same matrix: lines shorter and longer than a block, quoted and padded fields that take
    /// the general rules, CRLF, missing-value tokens, exponents, and a last line without a newline
    /// (split from a copy at the mapping's end). One thread: the forced version applies.
    @Test func everyInstructionSetSurveysAlike() throws {
        var text = "name,x,note,y\n"
        for i in 0..<600 {
            let name = i % 9 == 0 ? "\"q,\(i % 4)\"" : i % 10 == 0 ? " c\(i % 3) " : "c\(i % 5)"
            let x = i % 7 == 0 ? "NA" : i % 11 == 0 ? "" : i % 13 == 0 ? "\(i)e-3" : "\(Double(i) * 0.37 - 50)"
            text += "\(name),\(x),\(String(repeating: "w", count: i % 150))x,\(i % 2)" + (i % 6 == 0 ? "\r\n" : "\n")
        }
        text += "c1,1.5,end,0"
        defer { ck_isa_force(ck_isa_best()) }
        var loads: [Dataset] = []
        for isa in [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512] where ck_isa_supported(isa) != 0 {
            ck_isa_force(isa)
            loads.append(try TabularCSVTests.load(text, TabularCSVTests.options(target: "y", threads: 1)).0)
        }
        let first = try #require(loads.first)
        #expect(first.rows == 601 && first.featureNames.contains("x_na") && first.featureNames.contains("name=q,1"))
        for d in loads.dropFirst() {
            #expect(d.featureNames == first.featureNames && d.labels == first.labels)
            #expect(d.features.map(\.bitPattern) == first.features.map(\.bitPattern))
        }
    }

    /// Category texts are Swift strings: invalid UTF-8 repaired as String(decoding:) repairs it, and
    /// canonically equivalent spellings (é composed and decomposed) one category, every row hot.
    @Test func categoriesAreTheStringsSwiftReads() throws {
        let values: [[UInt8]] = [[0x5A, 0xFC, 0x72], [0x5A, 0xE4, 0x72], [0xC3, 0xA9], [0x65, 0xCC, 0x81], [0x61, 0xE2, 0x82],
                                 [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0x22, 0x61, 0x22, 0x22, 0x62, 0x22]]
        var bytes = Array("c,y\n".utf8)
        for (i, v) in values.enumerated() { bytes += v + Array(",\(i % 2)\n".utf8) }
        let path = TrainCommandTests.temporaryPath("utf8") + ".csv"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (d, _) = try loadCSV(path: path, options: CSVOptions(target: "y", threads: 1))
        let texts = values.map { v in v.first == 0x22 ? "a\"b" : String(decoding: v, as: UTF8.self) }
        var counts: [String: Int] = [:], order: [String] = []
        for t in texts {
            if counts[t] == nil { order.append(t) }
            counts[t, default: 0] += 1
        }
        let expected = order.enumerated().sorted { (counts[$0.1]!, -$0.0) > (counts[$1.1]!, -$1.0) }.map(\.1)
        #expect(d.featureNames == expected.map { "c=" + $0 })
        for (r, t) in texts.enumerated() {
            let row = Array(d.features[(r * d.featureCount)..<((r + 1) * d.featureCount)])
            #expect(row == expected.map { $0 == t ? 1 : 0 }, "row \(r)")
        }
    }

    @Test func valueErrorsNameLineAndColumn() throws {
        func message(_ text: String, _ options: CSVOptions = CSVOptions(threads: 2, chunkBytes: 8)) -> String? {
            do { _ = try TabularCSVTests.load(text, options) } catch { return "\(error)" }
            return nil
        }
        let bad = try #require(message("k,a,y\nx,1,0\ny,2e99,1\nz,3,0\n"))
        #expect(bad.hasSuffix(":3:2: out of float32 range: number \"2e99\" in column 'a'"), "\(bad)")
        let nonFinite = try #require(message("k,a,y\nx,1,0\ny,inf,1\n"))
        #expect(nonFinite.hasSuffix(":3:2: non-finite value \"inf\" in column 'a'"), "\(nonFinite)")
        let quoted = try #require(message("k,a,y\nx,1,0\ny,\"a\"\"b\",1\n", { var o = CSVOptions(threads: 1); o.columns.numeric = ["a"]; return o }()))
        #expect(quoted.hasSuffix(":3:2: invalid number \"a\"b\" in column 'a'"), "\(quoted)")
        let ragged = try #require(message("k,a,y\nx,1,0\ny,2\n"))
        #expect(ragged.hasSuffix(":3: expected 3 fields, found 2"), "\(ragged)")
        // --drop-invalid-rows skips and counts the rows with a bad value or no label.
        let (d, report) = try TabularCSVTests.load("k,a,y\nx,1,0\ny,2e99,1\nz,3,\nw,4,1\n", CSVOptions(dropInvalidRows: true, threads: 2, chunkBytes: 8))
        #expect(d.rows == 2 && report.invalidRows == 2)
    }

    @Test func moreThanAMillionCategoriesIsAnError() throws {
        var text = "id,y\n"
        text.reserveCapacity(14_000_000)
        for i in 0...(1 << 20) { text += "v\(i),\(i % 2)\n" }
        let e = #expect(throws: DataError.self) { try TabularCSVTests.load(text, CSVOptions(threads: 2)) }
        #expect(e?.description.hasSuffix("column 'id' has more than 1048576 distinct values; give it fewer with --max-categories, "
            + "or leave it out with --ignore-columns id") == true, "\(String(describing: e))")
    }
}
