import Foundation
import MLPTrainer
import ONNXProto
import Testing

/// model.onnx: parsed back with swift-protobuf (inputs, outputs, initializers, opset), and run by a
/// reference evaluator (ONNXInterpreter) against `Predictor` for every activation, with and
/// without BatchNorm. (ONNX Runtime's own check is Benchmarks/anchors/onnx_check.py.)
@Suite struct ONNXExportTests {
    static let features = ["sepal", "petal", "x3"]
    static let labels = ["cat", "dog", "emu"]

    /// A 3-8-5-3 network with every tensor away from its initial value: random weights, BatchNorm
    /// statistics and affine parameters, activation parameters moved by up to 0.2 (or set to
    /// `activationValues`, per slot, when given).
    static func checkpoint(_ activation: ActivationSpec, batchNorm: Bool = true, activationValues: [Float]? = nil,
                           standardize: Bool = true) -> Checkpoint {
        let config = ModelConfig(inputs: 3, hidden: [8, 5], classes: 3, activation: activation, norm: batchNorm ? .batch : .none, dropout: 0.4)
        var model = Model(config: config, seed: 7)
        var rng = SplitMix64(seed: 11)
        for t in model.layout.parameters {
            for i in t.offset..<(t.offset + t.count) {
                if t.name.hasPrefix("bn") { model.parameters[i] = rng.uniform(0.5, 1.5) - (t.name.hasSuffix("bias") ? 1 : 0) }
                if t.name.hasPrefix("a") {
                    model.parameters[i] = activationValues.map { $0[(i - t.offset) % $0.count] } ?? model.parameters[i] + rng.uniform(-0.2, 0.2)
                }
            }
        }
        for t in model.layout.buffers {
            for i in t.offset..<(t.offset + t.count) {
                model.buffers[i] = t.name.hasSuffix("running_var") ? rng.uniform(0.3, 2) : rng.uniform(-0.5, 0.5)
            }
        }
        let standardizer = standardize ? Standardizer(mean: [0.5, -1, 2], std: [2, 0.5, 1.5]) : nil
        return Checkpoint(model: model, classLabels: labels, featureNames: features, standardizer: standardizer,
                          runConfiguration: ["epochs": "3", "lr": "0.01"])
    }

    /// Raw rows, spread over a few standard deviations of each feature.
    static let rows: (count: Int, values: [Float]) = {
        var rng = SplitMix64(seed: 5)
        let count = 97
        return (count, (0..<(count * 3)).map { i in [0.5, -1, 2][i % 3] + rng.uniform(-4, 4) })
    }()

    /// The largest |probability difference| between the graph and `Predictor`, and whether the labels agree.
    static func compare(_ checkpoint: Checkpoint) throws -> (diff: Float, sameLabels: Bool) {
        let model = try Onnx_ModelProto(serializedBytes: try ONNXExport.data(checkpoint))
        let used = Set(model.graph.node.flatMap(\.input))
        #expect(model.graph.initializer.allSatisfy { used.contains($0.name) }, "every initializer is used")
        let defined = model.graph.node.flatMap(\.output) + model.graph.initializer.map(\.name)
        #expect(Set(defined).count == defined.count, "every value is defined once (SSA)")
        let values = try ONNXInterpreter(graph: model.graph).run(["features": .init(shape: [rows.count, 3], floats: rows.values)])
        let data = Dataset(features: rows.values, labels: [Int32](repeating: 0, count: rows.count), featureNames: features, classLabels: labels)
        let expected = Predictor(checkpoint: checkpoint, threads: 1).predict(data)
        let probabilities = values["probabilities"]!.floats
        #expect(probabilities.count == expected.values.count)
        let diff = zip(probabilities, expected.values).map { abs($0 - $1) }.max() ?? .infinity
        return (diff, values["label"]!.strings == expected.predictions.map { labels[Int($0)] })
    }

    /// Every activation the kernels have, with and without BatchNorm, per layer and (where it has
    /// parameters) per channel.
    @Test(arguments: ActivationSpec.kinds.map(\.name))
    func graphMatchesPredictor(activation name: String) throws {
        let kind = ActivationSpec.named(name)!
        for perChannel in kind.parameters.isEmpty ? [false] : [false, true] {
            for batchNorm in [true, false] {
                let spec = ActivationSpec(kind: kind, perChannel: perChannel)
                let (diff, same) = try Self.compare(Self.checkpoint(spec, batchNorm: batchNorm))
                #expect(diff <= 1e-5 && same, "\(name) per channel \(perChannel) batchnorm \(batchNorm): max diff \(diff), labels same \(same)")
            }
        }
    }

    /// Soft exponential's three branches and their per-channel mix, and the clamp of ln's argument
    /// (alpha = -0.6 clamps 1 - a (x + a) at 1e-6 for pre-activations x below about -1.07, which the
    /// unstandardised rows reach), and a subnormal negative alpha (whose 1/alpha overflows).
    @Test(arguments: [[Float(0.3)], [0], [-0.3], [-0.6], [-1e-40], [0.4, 0, -0.35, 0.02, -0.01]])
    func softexpBranchesMatchPredictor(alpha: [Float]) throws {
        let spec = ActivationSpec(kind: ActivationSpec.named("softexp")!, perChannel: alpha.count > 1)
        for batchNorm in [true, false] {
            let (diff, same) = try Self.compare(Self.checkpoint(spec, batchNorm: batchNorm, activationValues: alpha, standardize: false))
            #expect(diff <= 1e-5 && same, "softexp alpha \(alpha) batchnorm \(batchNorm): max diff \(diff)")
        }
    }

    @Test func fileHasTheModelsInputsOutputsInitializersAndOpset() throws {
        let checkpoint = Self.checkpoint(ActivationSpec(kind: ActivationSpec.named("swish")!))
        let bytes = try ONNXExport.data(checkpoint)
        #expect(try ONNXExport.data(checkpoint) == bytes, "the same checkpoint gives the same bytes")
        let model = try Onnx_ModelProto(serializedBytes: bytes)
        #expect(model.irVersion == 8)
        #expect(model.opsetImport.map { "\($0.domain):\($0.version)" } == [":17"])
        #expect(model.graph.input.map(\.name) == ["features"])
        #expect(Self.shape(model.graph.input[0]) == ["N", "3"] && model.graph.input[0].type.tensorType.elemType == 1)
        #expect(model.graph.output.map(\.name) == ["probabilities", "label"])
        #expect(Self.shape(model.graph.output[0]) == ["N", "3"] && model.graph.output[0].type.tensorType.elemType == 1)
        #expect(Self.shape(model.graph.output[1]) == ["N"] && model.graph.output[1].type.tensorType.elemType == 8)

        let initializers = Dictionary(uniqueKeysWithValues: model.graph.initializer.map { ($0.name, $0) })
        for (name, tensor) in Checkpoint.tensors(of: checkpoint.model) where tensor.dtype == .f32 {
            #expect(initializers[name]?.floatData == tensor.floats && initializers[name]?.dims == tensor.shape.map(Int64.init), "\(name)")
        }
        #expect(initializers["bn1.num_batches_tracked"] == nil)
        #expect(initializers["standardize.mean"]?.floatData == [0.5, -1, 2] && initializers["standardize.std"]?.floatData == [2, 0.5, 1.5])
        #expect(initializers["class_labels"]?.stringData.map { String(decoding: $0, as: UTF8.self) } == Self.labels)
        #expect(model.graph.node.map(\.name).contains("a2") && model.graph.node.map(\.name).contains("bn2"))
        #expect(!model.graph.node.contains { $0.opType == "Dropout" })
        let metadata = Dictionary(uniqueKeysWithValues: model.metadataProps.map { ($0.key, $0.value) })
        #expect(metadata == checkpoint.metadata)
        #expect(model.docString.contains("3-8-5-3") && model.docString.contains("cat, dog, emu") && model.docString.contains("lr=0.01"))
    }

    @Test func withoutStandardisationTheFeaturesGoStraightIntoFc1() throws {
        let model = try ONNXExport.model(Self.checkpoint(ActivationSpec(kind: ActivationSpec.named("relu")!), standardize: false))
        #expect(model.graph.node.first?.name == "fc1" && model.graph.node.first?.input.first == "features")
        #expect(!model.graph.initializer.contains { $0.name.hasPrefix("standardize") })
    }

    /// `train` writes model.onnx beside model.safetensors, with the same tensors.
    @Test func trainWritesModelOnnx() throws {
        let out = TrainCommandTests.temporaryPath("onnx-run")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try TrainCommandTests.run(["--data", "synthetic:300x4x3", "--epochs", "2", "--activation", "srelu", "--threads", "1",
                                           "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: out + "/model.onnx")))
        let (tensors, _) = try Checkpoint.read(path: out + "/model.safetensors")
        let initializers = Dictionary(uniqueKeysWithValues: model.graph.initializer.map { ($0.name, $0.floatData) })
        for (name, tensor) in tensors where tensor.dtype == .f32 { #expect(initializers[name] == tensor.floats, "\(name)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { !$0.contains(".tmp-") })
    }

    static func shape(_ value: Onnx_ValueInfoProto) -> [String] {
        value.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? String($0.dimValue) : $0.dimParam }
    }
}
