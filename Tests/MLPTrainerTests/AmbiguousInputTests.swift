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
}
