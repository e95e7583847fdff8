import Foundation
import Testing

/// README, "What the trainer guarantees": input that could be read two ways is an error naming the
/// file and line, not a guess.
@Suite struct AmbiguousInputTests {
    func trainRefuses(_ csv: String, saying message: (String) -> String) throws {
        let path = try TrainCommandTests.writeCSV(csv), out = TrainCommandTests.temporaryPath("ambiguous")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try TrainCommandTests.run(["--data", path, "--epochs", "1", "--quiet", "--out", out])
        #expect(r.status == 1 && r.stderr.contains(message(path)), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// --target, --features and predict find columns by name: two columns with one name are refused.
    @Test func duplicateColumnNames() throws {
        try trainRefuses("a,b,a,label\n1,2,3,0\n4,5,6,1\n1,2,3,0\n4,5,6,1\n") {
            "\($0):1: columns 1 and 3 are both named 'a'; give each column its own name"
        }
        // The target's name too, and after blank lines the header's own line number.
        try trainRefuses("\n\nlabel,b,label\n1,2,0\n4,5,1\n1,2,0\n4,5,1\n") { "\($0):3: columns 1 and 3 are both named 'label'" }
    }

    /// A file whose lines end with a carriage return alone would be one long line.
    @Test func carriageReturnLineEnds() throws {
        try trainRefuses("a,b,label\r1,2,0\r4,5,1\r1,2,0\r4,5,1\r") {
            "\($0):1: a carriage return inside the line (lines ending with \\r alone?); lines must end with \\n or \\r\\n"
        }
    }

    /// A carriage return inside a line of an LF file, or a NUL, would silently make its column
    /// categorical: a control character in a field is refused (CSVTests has every place one can hide).
    @Test func controlCharacterInAField() throws {
        try trainRefuses("a,b,label\n1,2,0\n4,5\r,1\n1,2,0\n4,5,1\n") {
            "\($0):3:2: control character 0x0D (a carriage return inside the line) in a field of column 'b'"
        }
        try trainRefuses("a,b,label\n1,2,0\n4,5,1\n1,\u{0}2,0\n4,5,1\n") { "\($0):4:2: control character 0x00 (NUL) in a field of column 'b'" }
    }

    /// Files that disagree: `--init` weights learned on other columns or classes than the data's.
    @Test func initFromAModelOfOtherColumnsOrClasses() throws {
        let rows = "1,2,0\n4,5,1\n1,3,0\n4,6,1\n2,2,0\n5,5,1\n"
        let data = try TrainCommandTests.writeCSV("a,b,label\n" + rows), first = TrainCommandTests.temporaryPath("init")
        let swapped = try TrainCommandTests.writeCSV("b,a,label\n" + rows)
        let otherClasses = try TrainCommandTests.writeCSV("a,b,label\n" + rows.replacingOccurrences(of: ",0\n", with: ",x\n").replacingOccurrences(of: ",1\n", with: ",y\n"))
        defer { for p in [data, first, swapped, otherClasses] { try? FileManager.default.removeItem(atPath: p) } }
        let trained = try TrainCommandTests.run(["--data", data, "--hidden", "4", "--epochs", "1", "--quiet", "--out", first])
        #expect(trained.status == 0, "\(trained.stderr)")
        let model = first + "/model.safetensors"
        for (file, message) in [(swapped, "\(swapped): column 1 is 'b', the --init model's feature 1 is 'a'"),
                                (otherClasses, "\(model): the --init model's classes are 0, 1, the data's x, y")] {
            let r = try TrainCommandTests.run(["--data", file, "--hidden", "4", "--epochs", "1", "--quiet", "--init", model,
                                               "--out", TrainCommandTests.temporaryPath("x")])
            #expect(r.status == 1 && r.stderr.contains(message), "\(r.stderr)")
        }
    }
}
