import Foundation
@testable import MLPTrainer
import Testing

/// Model and checkpoint files whose fields disagree with each other or with their tensors are one
/// clear error, never a trap, a wrong read or a huge allocation (README, "What the trainer guarantees").
@Suite struct ModelFileValidationTests {
    static let config = ModelConfig(inputs: 2, hidden: [3], classes: 2, activation: ActivationSpec(kind: ActivationSpec.named("swish")!),
                                    norm: .batch, dropout: 0)

    static func checkpoint() -> Checkpoint {
        Checkpoint(model: Model(config: config, seed: 1), classLabels: ["no", "yes"], featureNames: ["a", "b"],
                   standardizer: Standardizer(mean: [0, 1], std: [1, 2]))
    }

    /// The checkpoint's file with some metadata replaced, decoded again.
    static func load(editing edits: [String: String]) throws -> Checkpoint {
        let c = checkpoint()
        let data = try Safetensors.encode(Checkpoint.tensors(of: c.model), metadata: c.metadata.merging(edits) { $1 })
        let (tensors, metadata) = try Safetensors.decode(data, source: "m.safetensors")
        return try Checkpoint.load(path: "m.safetensors", tensors: tensors, metadata: metadata)
    }

    static func error(_ body: () throws -> Any) -> String {
        do { _ = try body() } catch { return "\(error)" }
        return "no error"
    }

    @Test func anUneditedFileLoads() throws {
        #expect(try Self.load(editing: [:]).classLabels == ["no", "yes"])
    }

    @Test(arguments: [
        (["class_labels": #"["no","yes","maybe"]"#], "lists 3 class labels for a network with 2 outputs"),
        (["class_labels": #"["no","no"]"#], "has a label twice"),
        (["feature_names": #"["a"]"#], "lists 1 feature names for a network with 2 inputs"),
        (["standardize_std": "[1]"], "'standardize_std' has 1 values for 2 features"),
        (["standardize_mean": "[0,1,2]"], "'standardize_mean' has 3 values for 2 features"),
        (["standardize_std": "[1,0]"], "feature 2's standardisation (mean 1.0, std 0.0)"),
        (["standardize_std": "[1,-2]"], "feature 2's standardisation"),
        (["classes": "1", "class_labels": #"["x"]"#], "'classes' is 1"),
        (["hidden": "100000,100000"], "larger than the file's tensors"),
        (["inputs": "4611686018427387904"], "larger than the file's tensors"),
        (["hidden": ""], "'hidden' must list positive widths"),
        (["dropout": "1.5"], "'dropout' 1.5 is not in [0, 1)"),
    ] as [([String: String], String)]) func metadataThatDisagreesIsRefused(_ edits: [String: String], _ expected: String) {
        let message = Self.error { try Self.load(editing: edits) }
        #expect(message.hasPrefix("m.safetensors: ") && message.contains(expected), "\(message)")
    }

    /// A file with one tensor 'w' described by `entry` (a JSON object) and `data` after the header.
    static func raw(_ entry: String, data: [UInt8] = [UInt8](repeating: 0, count: 16)) -> Data {
        var header = Array("{\"w\":\(entry)}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        return file + header + data
    }

    @Test(arguments: [
        (#"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}"#, "whose size is negative or overflows"),
        (#"{"dtype":"F32","shape":[-4,-1],"data_offsets":[0,16]}"#, "whose size is negative or overflows"),
        (#"{"dtype":"F32","shape":[4],"data_offsets":[-16,0]}"#, "do not fit"),
        (#"{"dtype":"F32","shape":[8],"data_offsets":[0,32]}"#, "do not fit"),
        (#"{"dtype":"F32","shape":[4],"data_offsets":[9223372036854775807,9223372036854775807]}"#, "do not fit"),
        (#"{"dtype":"F16","shape":[4],"data_offsets":[0,8]}"#, "unsupported dtype F16"),
        (#"{"dtype":"F32","shape":"4","data_offsets":[0,16]}"#, "bad entry for 'w'"),
    ]) func craftedTensorEntriesAreRefused(_ entry: String, _ expected: String) {
        let message = Self.error { try Safetensors.decode(Self.raw(entry), source: "m") }
        #expect(message.contains(expected), "\(message)")
    }

    @Test func overlappingTensorsAreRefused() throws {
        var header = Array(#"{"u":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file += header + [UInt8](repeating: 0, count: 16)
        let message = Self.error { try Safetensors.decode(file, source: "m") }
        #expect(message.contains("tensors 'u' and 'w' overlap"), "\(message)")
    }

    @Test func nonStringMetadataIsRefused() {
        var header = Array(#"{"__metadata__":{"inputs":2}}"#.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        let message = Self.error { try Safetensors.decode(file + header, source: "m") }
        #expect(message.contains("__metadata__ is not a map of strings"), "\(message)")
    }

    @Test func aNonFiniteWeightIsNamed() {
        var model = Self.checkpoint().model
        model.parameters[model.layout.parameter(named: "fc2.bias")!.offset] = .nan
        #expect(ModelValidation.nonFiniteTensors(model) == ["fc2.bias"])
    }

    @Test func aDirectoryIsNotAModel() {
        let message = Self.error { try Checkpoint.load(path: NSTemporaryDirectory()) }
        #expect(message.contains("is a directory, not a model file"), "\(message)")
    }

    /// End to end: predict with a model whose labels outnumber its outputs writes nothing.
    @Test func predictRefusesAModelWithTooManyLabels() throws {
        let trained = try Checkpoint.load(path: PredictCommandTests.trained + "/model.safetensors")
        let (tensors, metadata) = try Checkpoint.read(path: PredictCommandTests.trained + "/model.safetensors")
        let bad = TrainCommandTests.temporaryPath("labels") + ".safetensors"
        let output = bad + ".csv"
        defer { for p in [bad, output] { try? FileManager.default.removeItem(atPath: p) } }
        var edited = metadata
        edited["class_labels"] = jsonText(trained.classLabels + ["2"])
        try Safetensors.encode(tensors, metadata: edited).write(to: URL(fileURLWithPath: bad))
        let r = try PredictCommandTests.run(["--model", bad, "--data", TrainCommandTests.banknote, "--output", output])
        #expect(r.status != 0 && r.stderr.contains("lists 3 class labels for a network with 2 outputs"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// End to end: `train --init` with a crafted shape is an error and leaves no --out.
    @Test func trainInitWithAnOverflowingShapeLeavesNothing() throws {
        let bad = TrainCommandTests.temporaryPath("shape") + ".safetensors", out = TrainCommandTests.temporaryPath("out")
        defer { for p in [bad, out] { try? FileManager.default.removeItem(atPath: p) } }
        try Self.raw(#"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}"#).write(to: URL(fileURLWithPath: bad))
        let r = try TrainCommandTests.run(["--epochs", "1", "--init", bad, "--out", out, "--quiet"])
        #expect(r.status == 1 && r.stderr.contains("whose size is negative or overflows"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
