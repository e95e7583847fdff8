import Foundation
import Testing

/// `predict` never destroys its inputs and replaces an existing output only when told to
/// (README, "What the trainer guarantees").
@Suite struct PredictOutputSafetyTests {
    static var model: String { PredictCommandTests.trained + "/model.safetensors" }

    static func copyOfBanknote() throws -> String {
        try TrainCommandTests.writeCSV(try String(contentsOfFile: TrainCommandTests.banknote, encoding: .utf8))
    }

    @Test func refusesToWriteOverItsDataFile() throws {
        let input = try Self.copyOfBanknote()
        defer { try? FileManager.default.removeItem(atPath: input) }
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        for force in [[], ["--force"]] {
            let r = try PredictCommandTests.run(["--model", Self.model, "--data", input, "--output", input] + force)
            #expect(r.status != 0 && r.stderr.contains("is the input"), "\(r.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        }
    }

    @Test func refusesToWriteOverTheModel() throws {
        let input = try Self.copyOfBanknote()
        defer { try? FileManager.default.removeItem(atPath: input) }
        let before = try Data(contentsOf: URL(fileURLWithPath: Self.model))
        // Another spelling of the same file is caught too.
        let spelled = (Self.model as NSString).deletingLastPathComponent + "/./model.safetensors"
        let r = try PredictCommandTests.run(["--model", Self.model, "--data", input, "--output", spelled, "--force"])
        #expect(r.status != 0 && r.stderr.contains("is the input"), "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: Self.model)) == before)
    }

    @Test func replacesAnExistingOutputOnlyWithForce() throws {
        let input = try Self.copyOfBanknote()
        let output = input + ".pred.csv"
        defer { for p in [input, output] { try? FileManager.default.removeItem(atPath: p) } }
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: output))
        let refused = try PredictCommandTests.run(["--model", Self.model, "--data", input, "--output", output])
        #expect(refused.status != 0 && refused.stderr.contains("already exists; pass --force"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "keep me\n")
        let forced = try PredictCommandTests.run(["--model", Self.model, "--data", input, "--output", output, "--force", "--quiet"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: output, encoding: .utf8).hasPrefix("predicted,prob_0,prob_1\n"))
    }

    @Test(arguments: ["", "/tmp/", "/tmp"]) func refusesOddOutputNames(_ output: String) throws {
        let input = try Self.copyOfBanknote()
        defer { try? FileManager.default.removeItem(atPath: input) }
        let r = try PredictCommandTests.run(["--model", Self.model, "--data", input, "--output", output, "--force"])
        #expect(r.status != 0 && r.stderr.hasPrefix("predict: error: --output") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
