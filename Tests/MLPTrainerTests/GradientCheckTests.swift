import Testing
@testable import MLPTrainer

/// Finite-difference checks of every parameter's gradient on random small networks: the analytic
/// gradient of the mean NLL against central differences of the loss.
@Suite struct GradientCheckTests {
    func check(batchNorm: Bool, perChannel: Bool, activation: String, shards: Int) throws {
        let config = ModelConfig(inputs: 3, hidden: [5, 4], classes: 3,
                                 activation: try ActivationSpec(parsing: activation, perChannel: perChannel),
                                 batchNorm: batchNorm, dropout: 0)
        var model = Model(config: config, seed: 7)
        // Move BatchNorm's affine parameters off 1 and 0 so their gradients are not special.
        var rng = SplitMix64(seed: 3)
        for i in model.parameters.indices where model.parameters[i] == 1 || model.parameters[i] == 0 {
            model.parameters[i] += rng.uniform(-0.3, 0.3)
        }
        let data = SyntheticProblem(features: 3, classes: 3, seed: 5).dataset(rows: 23)
        let engine = Engine(model: model, optimizer: OptimizerConfig(kind: .sgd, learningRate: 0), shards: shards,
                            pool: WorkerPool(threads: 2), dropoutSeed: 0)
        let indices = Array(0..<data.rows)
        func loss() -> Double {
            indices.withUnsafeBufferPointer { engine.trainStep(features: data.features, labels: data.labels, indices: $0, update: false).loss }
        }
        _ = loss()
        let analytic = engine.gradientValues
        let h: Float = 1e-2
        for t in engine.layout.parameters {
            for i in t.offset..<(t.offset + t.count) {
                let saved = engine.parameters[i]
                engine.parameters[i] = saved + h
                let up = loss()
                engine.parameters[i] = saved - h
                let down = loss()
                engine.parameters[i] = saved
                let numeric = (up - down) / Double(2 * h)
                let g = Double(analytic[i])
                #expect(abs(numeric - g) <= 2e-3 + 2e-2 * abs(g), "\(t.name)[\(i - t.offset)]: analytic \(g), numeric \(numeric)")
            }
        }
    }

    @Test func withoutBatchNorm() throws {
        try check(batchNorm: false, perChannel: false, activation: "affine:alpha=0.2,beta=0.8", shards: 1)
    }

    @Test func withoutBatchNormPerChannelParameters() throws {
        try check(batchNorm: false, perChannel: true, activation: "affine:alpha=-0.1,beta=1.3", shards: 3)
    }

    @Test func withSynchronisedBatchNorm() throws {
        try check(batchNorm: true, perChannel: false, activation: "affine:alpha=0.2,beta=0.8", shards: 4)
    }
}
