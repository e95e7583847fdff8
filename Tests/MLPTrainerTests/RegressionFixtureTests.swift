import Foundation
import Testing
@testable import MLPTrainer

/// Regression against PyTorch's own numbers (Fixtures/regression_{mse,huber}.json, made by
/// Benchmarks/anchors/regression_fixture.py): the outputs, the MSE and Huber losses, every gradient,
/// three Adam steps and the eval-mode outputs after them.
@Suite struct RegressionFixtureTests {
    struct Setup {
        let fixture: Fixture
        let model: Model
        let x: [Float]
        let targets: [Float]
        var labels: [Int32] { [Int32](repeating: 0, count: targets.count) }
    }

    func setup(_ loss: RegressionLoss) throws -> Setup {
        let fixture = try Fixture("regression_\(loss.rawValue).json")
        let sizes = fixture.sizes
        var config = ModelConfig(inputs: sizes.first!, hidden: Array(sizes.dropFirst().dropLast()), classes: sizes.last!,
                                 activation: try ActivationSpec(parsing: "affine"), norm: fixture.normalization, dropout: 0)
        config.task = .regression(loss)
        var model = Model(config: config, seed: 1)
        model.load(fixture.tensors("init"))
        return Setup(fixture: fixture, model: model, x: fixture.tensor("x"), targets: fixture.tensor("targets"))
    }

    func step(_ engine: Engine, _ s: Setup, update: Bool) -> Double {
        Array(0..<s.targets.count).withUnsafeBufferPointer { idx in
            engine.trainStep(features: s.x, labels: s.labels, targets: s.targets, indices: idx, update: update).loss
        }
    }

    @Test(arguments: RegressionLoss.allCases, [1, 3])
    func lossAndGradients(_ loss: RegressionLoss, shards: Int) throws {
        let s = try setup(loss)
        let e = Engine(model: s.model, optimizer: OptimizerConfig(kind: .sgd, learningRate: 0), shards: shards,
                       pool: WorkerPool(threads: 2), dropoutSeed: 0)
        #expect(abs(step(e, s, update: false) - (s.fixture.json["loss_value"] as! NSNumber).doubleValue) < 1e-5)
        let outputs = e.workspacesForTesting.flatMap { ws in Array(UnsafeBufferPointer(start: ws.outputs.last!.pointer, count: ws.rows)) }
        #expect(maxError(outputs, s.fixture.tensor("outputs")) < 1e-5)
        let model = e.model, gradient = e.gradientValues
        for (name, expected) in s.fixture.tensors("grads") {
            let t = model.layout.parameter(named: name)!
            #expect(maxError(Array(gradient[t.offset..<(t.offset + t.count)]), expected) < 1e-5, "gradient of \(name)")
        }
    }

    @Test(arguments: RegressionLoss.allCases)
    func threeAdamSteps(_ loss: RegressionLoss) throws {
        let s = try setup(loss)
        let e = Engine(model: s.model, optimizer: OptimizerConfig(kind: .adam, learningRate: 0.01), shards: 1,
                       pool: WorkerPool(threads: 1), dropoutSeed: 0)
        for expected in (s.fixture.json["losses_per_step"] as! [NSNumber]).map(\.doubleValue) {
            #expect(abs(step(e, s, update: true) - expected) < 1e-5)
        }
        let model = e.model
        for (name, expected) in s.fixture.tensors("after_steps") {
            #expect(maxError(model.value(name), expected) < 2e-5, "\(name) after 3 steps")
        }
        var outputs = [Float](repeating: 0, count: s.targets.count)
        _ = e.evaluate(features: s.x, labels: s.labels, targets: s.targets, rows: s.targets.count, outputs: &outputs)
        #expect(maxError(outputs, s.fixture.tensor("eval_outputs_after_steps")) < 2e-5)
    }
}
