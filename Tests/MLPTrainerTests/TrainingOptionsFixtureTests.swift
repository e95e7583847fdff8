import Foundation
import Testing
@testable import MLPTrainer

/// Class weights, gradient clipping, learning-rate schedules and the probability figures against
/// PyTorch's and scikit-learn's own numbers (Fixtures/training_options.json, written by
/// Benchmarks/anchors/training_options_fixture.py on the seed network of seed_network_nobn_adam.json).
@Suite struct TrainingOptionsFixtureTests {
    let options: [String: Any]
    let seed: Fixture

    init() throws {
        options = try Fixture("training_options.json").json
        seed = try Fixture("seed_network_nobn_adam.json")
    }

    func section(_ name: String) -> [String: Any] { options[name] as! [String: Any] }
    func numbers(_ value: Any?) -> [Double] { (value as! [NSNumber]).map(\.doubleValue) }

    /// An engine on the fixture's network, weights and rows.
    func engine(shards: Int = 1, threads: Int = 1) -> Engine {
        let sizes = seed.sizes
        let config = ModelConfig(inputs: sizes.first!, hidden: Array(sizes.dropFirst().dropLast()), classes: sizes.last!,
                                 activation: try! ActivationSpec(parsing: "affine"), norm: .none, dropout: 0)
        var model = Model(config: config, seed: 1)
        model.load(seed.tensors("init"))
        return Engine(model: model, optimizer: OptimizerConfig(kind: .sgd, learningRate: 0), shards: shards,
                      pool: WorkerPool(threads: threads), dropoutSeed: 0)
    }

    func gradientStep(_ e: Engine) -> Engine.StepResult {
        let x = seed.tensor("x"), y = seed.labels
        return Array(0..<y.count).withUnsafeBufferPointer { e.trainStep(features: x, labels: y, indices: $0, update: false) }
    }

    func expectGradients(_ e: Engine, _ expected: [String: Any], _ what: String) {
        let layout = e.layout, gradient = e.gradientValues
        for (name, values) in expected.mapValues(Fixture.floats) {
            let t = layout.parameter(named: name)!
            #expect(maxError(Array(gradient[t.offset..<(t.offset + t.count)]), values) < 1e-5, "\(what): gradient of \(name)")
        }
    }

    @Test(arguments: [(1, 1), (3, 2)])
    func classWeightedLossAndGradientsMatchPyTorch(shards: Int, threads: Int) throws {
        for name in ["weighted", "balanced_weights"] {
            let fixture = section(name)
            let e = engine(shards: shards, threads: threads)
            e.classWeights = (fixture["weight"] ?? fixture["weights"]).map { numbers($0).map(Float.init) }
            let result = gradientStep(e)
            #expect(abs(result.loss - (fixture["loss"] as! NSNumber).doubleValue) < 1e-5, "\(name) loss")
            expectGradients(e, fixture["grads"] as! [String: Any], name)
        }
        // The weights change the gradient: the unweighted one differs from the weighted fixture.
        let plain = engine(shards: shards, threads: threads)
        _ = gradientStep(plain)
        let weighted = Fixture.floats((section("weighted")["grads"] as! [String: Any])["fc5.bias"])
        let t = plain.layout.parameter(named: "fc5.bias")!
        #expect(maxError(Array(plain.gradientValues[t.offset..<(t.offset + t.count)]), weighted) > 1e-2)
    }

    @Test func balancedWeightsAreScikitLearns() throws {
        for name in ["balanced_weights", "balanced_weights_3"] {
            let fixture = section(name)
            let labels = numbers(fixture["y"]).map { Int32($0) }
            let classes = Set(labels).sorted().map { String($0) }
            let weights = try #require(try ClassWeighting.balanced.weights(labels: labels, classLabels: classes))
            #expect(maxError(weights, numbers(fixture["weights"]).map(Float.init)) < 1e-6, "\(name)")
        }
    }

    @Test func givenWeightsApplyByLabelAndOthersWeighOne() throws {
        let weights = try ClassWeighting(parsing: "b=2.5,c=0.5").weights(labels: [0, 1, 2], classLabels: ["a", "b", "c"])
        #expect(weights == [1, 2.5, 0.5])
        #expect(throws: ConfigError.self) { try ClassWeighting(parsing: "z=2").weights(labels: [0, 1], classLabels: ["a", "b"]) }
        #expect(throws: ConfigError.self) { try ClassWeighting.balanced.weights(labels: [0, 0], classLabels: ["a", "b"]) }
    }

    @Test(arguments: [(1, 1), (4, 1), (4, 2), (4, 3)])
    func clippedGradientMatchesPyTorch(shards: Int, threads: Int) throws {
        let fixture = section("clipped")
        let e = engine(shards: shards, threads: threads)
        e.clipGradNorm = Float((fixture["max_norm"] as! NSNumber).doubleValue)
        _ = gradientStep(e)
        let norm = try #require(e.gradientNorm)
        #expect(abs(norm - (fixture["total_norm"] as! NSNumber).doubleValue) < 1e-5)
        #expect(norm > 2 * Double(e.clipGradNorm!), "the fixture must clip")
        expectGradients(e, fixture["grads"] as! [String: Any], "clipped")
    }

    /// The norm is summed in fixed blocks, whatever the workers: the clipped gradient's bytes do not
    /// depend on the thread count (blocks of 4096 floats, so a network with several).
    @Test func clippingIsTheSameForAnyThreadCount() throws {
        func clippedGradient(threads: Int) throws -> [Float] {
            var s = TrainingSettings()
            s.data = .synthetic(rows: 300, features: 6, classes: 3)
            s.hidden = [128, 64]
            s.epochs = 1
            s.shards = 4
            s.threads = threads
            let run = try TrainingRun(settings: s)
            let e = Engine(model: Model(config: run.modelConfig, seed: 3), optimizer: OptimizerConfig(), shards: 4,
                           pool: WorkerPool(threads: threads), dropoutSeed: 0)
            e.fixedWorkers = threads
            e.clipGradNorm = 0.01
            _ = Array(0..<200).withUnsafeBufferPointer { e.trainStep(features: run.train.features, labels: run.train.labels, indices: $0) }
            #expect(e.gradientNorm! > 0.01)
            return e.gradientValues + e.model.parameters
        }
        let one = try clippedGradient(threads: 1)
        #expect(one.count > 2 * 2 * GradientClipping.blockSize)
        for threads in [2, 3] { #expect(try clippedGradient(threads: threads) == one, "threads \(threads)") }
    }

    @Test func schedulesMatchPyTorchEpochByEpoch() throws {
        let fixture = section("schedules")
        let epochs = (fixture["epochs"] as! NSNumber).intValue, base = (fixture["lr"] as! NSNumber).doubleValue
        let metrics = numbers(fixture["plateau_metrics"])
        let cases: [(key: String, schedule: String, warmup: Int)] = [
            ("step:3,0.5", "step:3,0.5", 0), ("cosine", "cosine", 0), ("onecycle", "onecycle", 0), ("plateau:2,0.5", "plateau:2,0.5", 0),
            ("warmup 3, cosine", "cosine", 3), ("warmup 2, step:4,0.1", "step:4,0.1", 2), ("warmup 4, constant", "constant", 4),
            ("warmup 2, plateau:1,0.1", "plateau:1,0.1", 2),
        ]
        for c in cases {
            let schedule = try LearningRateSchedule(parsing: c.schedule)
            let expected = numbers(fixture[c.key])
            let got = (1...epochs).map { schedule.learningRate(epoch: $0, of: epochs, base: base, warmup: c.warmup, monitored: metrics) }
            for (epoch, (a, b)) in zip(got, expected).enumerated() {
                #expect(abs(a - b) <= 1e-12 + 1e-9 * b, "\(c.key), epoch \(epoch + 1): \(a) vs PyTorch's \(b)")
            }
            #expect(Set(expected).count > 1, "\(c.key) must change the rate")
        }
    }

    @Test func rocAUCAndLogLossAreScikitLearns() throws {
        let fixture = section("probabilities")
        let labels = numbers(fixture["y"]).map { Int32($0) }, p1 = numbers(fixture["p1"])
        let logProbabilities = p1.flatMap { [Float(log(1 - $0)), Float(log($0))] }
        let figures = ProbabilityFigures(logProbabilities: logProbabilities, labels: labels, classes: 2, classWeights: nil)
        #expect(abs(figures.auc! - (fixture["roc_auc"] as! NSNumber).doubleValue) < 1e-9)
        #expect(abs(figures.loss - (fixture["log_loss"] as! NSNumber).doubleValue) < 1e-6)
        #expect(Set(p1).count < p1.count, "the scores must have ties")
    }
}
