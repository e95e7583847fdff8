import CKernels
import Foundation
import Testing
@testable import MLPTrainer

/// The seed network against PyTorch's own numbers: forward, loss, every gradient, three optimizer
/// steps and the eval-mode output after them (Fixtures/seed_network*.json).
@Suite struct PyTorchFixtureTests {
    struct Setup {
        let fixture: Fixture
        let config: ModelConfig
        let model: Model
        let x: [Float]
        let y: [Int32]
    }

    func setup(_ name: String) throws -> Setup {
        let fixture = try Fixture(name)
        let sizes = fixture.sizes
        let config = ModelConfig(inputs: sizes.first!, hidden: Array(sizes.dropFirst().dropLast()), classes: sizes.last!,
                                 activation: try ActivationSpec(parsing: "affine"),
                                 norm: fixture.normalization, dropout: 0)
        var model = Model(config: config, seed: 1)
        model.load(fixture.tensors("init"))
        return Setup(fixture: fixture, config: config, model: model, x: fixture.tensor("x"), y: fixture.labels)
    }

    func engine(_ s: Setup, optimizer: OptimizerConfig, shards: Int = 1, threads: Int = 1) -> Engine {
        Engine(model: s.model, optimizer: optimizer, shards: shards, pool: WorkerPool(threads: threads), dropoutSeed: 0)
    }

    func step(_ engine: Engine, _ s: Setup, update: Bool) -> Engine.StepResult {
        let indices = Array(0..<s.y.count)
        return indices.withUnsafeBufferPointer { idx in
            engine.trainStep(features: s.x, labels: s.y, indices: idx, update: update)
        }
    }

    func checkForwardAndGradients(_ name: String, shards: Int, threads: Int) throws {
        let s = try setup(name)
        let e = engine(s, optimizer: OptimizerConfig(kind: .sgd, learningRate: 0), shards: shards, threads: threads)
        let result = step(e, s, update: false)
        #expect(abs(result.loss - (s.fixture.json["loss"] as! NSNumber).doubleValue) < 1e-5)
        // Train-mode log-probabilities, from the shards' logits.
        var logprobs: [Float] = []
        for ws in e.workspacesForTesting {
            var lp = [Float](repeating: 0, count: ws.rows * s.config.classes)
            _ = ck_logsoftmax_nll(ws.outputs.last!.pointer, ws.labelsIn, Int64(ws.rows), Int64(s.config.classes), &lp, nil, 0, nil)
            logprobs += lp
        }
        #expect(maxError(logprobs, s.fixture.tensor("logprobs")) < 1e-5)
        let model = e.model
        let gradient = e.gradientValues
        for (tensorName, expected) in s.fixture.tensors("grads") {
            let t = model.layout.parameter(named: tensorName)!
            let got = Array(gradient[t.offset..<(t.offset + t.count)])
            // alpha's and beta's gradients under BatchNorm are rounding noise (~1e-8): compare absolutely.
            #expect(maxError(got, expected) < 1e-5, "gradient of \(tensorName): \(got) vs \(expected)")
        }
    }

    @Test func batchNormForwardAndGradients() throws {
        try checkForwardAndGradients("seed_network.json", shards: 1, threads: 1)
    }

    @Test func batchNormGradientsAreTheSameWhenShardedSynchronised() throws {
        // Synchronised BatchNorm: four shards of the same batch normalise as one batch.
        try checkForwardAndGradients("seed_network.json", shards: 4, threads: 2)
    }

    @Test func layerNormBeforeTheActivationForwardAndGradients() throws {
        try checkForwardAndGradients("norm_layer_before_act_adam.json", shards: 3, threads: 2)
    }

    @Test func noBatchNormForwardAndGradients() throws {
        try checkForwardAndGradients("seed_network_nobn_adam.json", shards: 1, threads: 1)
    }

    func checkSteps(_ name: String, optimizer: OptimizerConfig) throws {
        let s = try setup(name)
        let e = engine(s, optimizer: optimizer)
        // The fixture's module ran the gradient check's forward pass (train mode) before its steps, so
        // its BatchNorm running statistics saw one batch more than there are steps: do the same.
        _ = step(e, s, update: false)
        let expectedLosses = (s.fixture.json["losses_per_step"] as! [NSNumber]).map(\.doubleValue)
        for expected in expectedLosses {
            let loss = step(e, s, update: true).loss
            #expect(abs(loss - expected) < 1e-5)
        }
        let model = e.model
        for (tensorName, expected) in s.fixture.tensors("after_steps") {
            #expect(maxError(model.value(tensorName), expected) < 2e-5, "\(tensorName) after steps")
        }
        if s.config.norm.kind == .batch { #expect(model.batchesTracked == Int64(expectedLosses.count + 1)) }
        var logprobs = [Float](repeating: 0, count: s.y.count * s.config.classes)
        _ = e.evaluate(features: s.x, labels: s.y, rows: s.y.count, outputs: &logprobs)
        #expect(maxError(logprobs, s.fixture.tensor("eval_logprobs_after_steps")) < 2e-5)
    }

    @Test func batchNormThreeSGDMomentumSteps() throws {
        try checkSteps("seed_network.json", optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.1, momentum: 0.9))
    }

    @Test func layerNormThreeAdamSteps() throws {
        try checkSteps("norm_layer_before_act_adam.json", optimizer: OptimizerConfig(kind: .adam, learningRate: 0.01))
    }

    /// Under LayerNorm the seed's alpha and beta learn: their gradients are far from rounding noise.
    @Test func layerNormLetsTheAffineParametersLearn() throws {
        let grads = try Fixture("norm_layer_before_act_adam.json").tensors("grads")
        #expect(grads.filter { $0.key.hasPrefix("a") }.values.allSatisfy { abs($0[0]) > 1e-4 })
    }

    @Test func noBatchNormThreeAdamSteps() throws {
        try checkSteps("seed_network_nobn_adam.json", optimizer: OptimizerConfig(kind: .adam, learningRate: 0.01))
    }
}
