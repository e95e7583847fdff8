import Foundation
import ONNXProto
import Testing
@testable import MLPTrainer

/// model.onnx's regression head: `prediction` float32 [N] in the target's units, run by the test's
/// reference evaluator against `Predictor`. (ONNX Runtime's check: Benchmarks/anchors/onnx_check.py.)
@Suite struct RegressionONNXTests {
    static func checkpoint(_ loss: RegressionLoss) -> Checkpoint {
        var config = ModelConfig(inputs: 3, hidden: [8, 5], classes: 1, activation: ActivationSpec(kind: ActivationSpec.named("swish")!),
                                 norm: .batch, dropout: 0.4)
        config.task = .regression(loss)
        var model = Model(config: config, seed: 7)
        var rng = SplitMix64(seed: 11)
        for t in model.layout.buffers where t.name.hasSuffix("running_var") {
            for i in t.offset..<(t.offset + t.count) { model.buffers[i] = rng.uniform(0.3, 2) }
        }
        return Checkpoint(model: model, classLabels: [], featureNames: ONNXExportTests.features,
                          standardizer: Standardizer(mean: [0.5, -1, 2], std: [2, 0.5, 1.5]),
                          targetScaling: TargetScaling(mean: 12.5, std: 3.25))
    }

    @Test(arguments: RegressionLoss.allCases)
    func predictionMatchesPredictor(_ loss: RegressionLoss) throws {
        let checkpoint = Self.checkpoint(loss)
        let model = try Onnx_ModelProto(serializedBytes: try ONNXExport.data(checkpoint))
        #expect(model.graph.output.map(\.name) == ["prediction"])
        #expect(ONNXExportTests.shape(model.graph.output[0]) == ["N"] && model.graph.output[0].type.tensorType.elemType == 1)
        let rows = ONNXExportTests.rows
        let values = try ONNXInterpreter(graph: model.graph).run(["features": .init(shape: [rows.count, 3], floats: rows.values)])
        let data = Dataset(features: rows.values, labels: [Int32](repeating: 0, count: rows.count), featureNames: ONNXExportTests.features,
                           classLabels: [])
        let expected = Predictor(checkpoint: checkpoint, threads: 1).predict(data).values
        #expect(values["prediction"]!.shape == [rows.count])
        let diff = zip(values["prediction"]!.floats, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(diff <= 1e-5 * 12.5, "max |onnx - predict| \(diff)")
        #expect(Set(expected).count > rows.count / 2, "the predictions vary with the rows")
    }

    /// The checkpoint's task, loss and target standardisation survive a save and a load.
    @Test func checkpointKeepsTheTaskAndTheTargetScaling() throws {
        let path = TrainCommandTests.temporaryPath("regression-model") + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.checkpoint(.huber).save(to: path)
        let loaded = try Checkpoint.load(path: path)
        #expect(loaded.model.config.task == .regression(.huber) && loaded.model.config.classes == 1)
        #expect(loaded.targetScaling == TargetScaling(mean: 12.5, std: 3.25) && loaded.classLabels.isEmpty)
    }
}
