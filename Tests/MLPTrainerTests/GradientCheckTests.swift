import Testing
@testable import MLPTrainer

/// Finite-difference checks of every parameter's gradient on random small networks: the analytic
/// gradient of the mean NLL (or regression's MSE or Huber loss) against central differences of the loss. Each check also demands that
/// the gradients it compares are not ~0 (where any tolerance would pass).
@Suite struct GradientCheckTests {
    func check(_ norm: Normalization, perChannel: Bool = false, activation: String, shards: Int,
               cancelled: Set<String> = [], task: LearningTask = .classification) throws {
        var config = ModelConfig(inputs: 3, hidden: [5, 4], classes: task.isRegression ? 1 : 3,
                                 activation: try ActivationSpec(parsing: activation, perChannel: perChannel),
                                 norm: norm, dropout: 0)
        config.task = task
        var model = Model(config: config, seed: 7)
        // Move the norms' affine parameters off 1 and 0 so their gradients are not special.
        var rng = SplitMix64(seed: 3)
        for t in model.layout.parameters where t.name.hasPrefix("bn") || t.name.hasPrefix("ln") {
            for i in t.offset..<(t.offset + t.count) { model.parameters[i] += rng.uniform(-0.3, 0.3) }
        }
        let data = SyntheticProblem(features: 3, classes: 3, seed: 5).dataset(rows: 23)
        let engine = Engine(model: model, optimizer: OptimizerConfig(kind: .sgd, learningRate: 0), shards: shards,
                            pool: WorkerPool(threads: 2), dropoutSeed: 0)
        let indices = Array(0..<data.rows)
        // Regression's target: x1^2 - x2, in [-2, 5] or so, so Huber's both pieces are used.
        let targets = (0..<data.rows).map { r -> Float in
            let x = data.features[3 * r]
            return x * x - data.features[3 * r + 1]
        }
        func loss() -> Double {
            indices.withUnsafeBufferPointer {
                engine.trainStep(features: data.features, labels: data.labels, targets: targets, indices: $0, update: false).loss
            }
        }
        _ = loss()
        let analytic = engine.gradientValues
        let h: Float = 1e-3
        for t in engine.layout.parameters {
            var largest = 0.0
            for i in t.offset..<(t.offset + t.count) {
                let saved = engine.parameters[i]
                engine.parameters[i] = saved + h
                let up = loss()
                engine.parameters[i] = saved - h
                let down = loss()
                engine.parameters[i] = saved
                let numeric = (up - down) / Double(2 * h)
                let g = Double(analytic[i])
                largest = max(largest, abs(g))
                #expect(abs(numeric - g) <= 1.5e-3 + 2e-2 * abs(g), "\(activation) \(t.name)[\(i - t.offset)]: analytic \(g), numeric \(numeric)")
            }
            if !cancelled.contains(t.name) { #expect(largest > 1e-4, "\(activation) \(t.name): gradients ~0, the check proves nothing") }
        }
    }

    /// Every activation of the kernels' table, without normalisation (where its parameters' gradients
    /// are not ~0), scalar and per-channel parameters.
    @Test(arguments: ActivationSpec.kinds.map(\.name))
    func everyActivationWithoutNormalisation(_ name: String) throws {
        let spec = try ActivationSpec(parsing: name)
        // Off the defaults (affine's and swish's are the identity-like 0/1), where the gradients are
        // generic; srelu's thresholds inside the data, so that every piece is used.
        let values = spec.initialValues.enumerated().map { p, v in "\(spec.kind.parameters[p].name)=\(v + 0.2)" }
        let text = name == "srelu" ? "srelu:t_left=0.05,a_left=0.4,t_right=0.35,a_right=1.3"
            : values.isEmpty ? name : "\(name):\(values.joined(separator: ","))"
        try check(.none, activation: text, shards: 1)
        try check(.none, perChannel: true, activation: text, shards: 3)
    }

    @Test func layerNormBeforeAndAfterTheActivation() throws {
        try check(.layer, activation: "affine:alpha=0.2,beta=0.8", shards: 3)
        try check(Normalization(.layer, position: .afterActivation), activation: "swish", shards: 2)
    }

    @Test(arguments: RegressionLoss.allCases)
    func regressionLosses(_ loss: RegressionLoss) throws {
        try check(.layer, activation: "swish", shards: 3, task: .regression(loss))
        try check(.batch, activation: "tanh", shards: 2, cancelled: ["fc1.bias", "fc2.bias"], task: .regression(loss))
    }

    /// BatchNorm's own parameters. It cancels what comes before it up to a per-channel shift (the
    /// hidden Linear biases) and the affine activation's parameters: their gradients are ~0.
    @Test func synchronisedBatchNorm() throws {
        try check(.batch, activation: "affine:alpha=0.2,beta=0.8", shards: 4,
                  cancelled: ["fc1.bias", "fc2.bias", "bn1.bias", "a1.alpha", "a1.beta", "a2.alpha", "a2.beta"])
        try check(Normalization(.batch, position: .beforeActivation), activation: "tanh", shards: 4, cancelled: ["fc1.bias", "fc2.bias"])
    }
}
