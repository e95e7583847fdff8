import Testing
@testable import MLPTrainer

/// The fused narrow block (ARCHITECTURE.md, "Fused narrow blocks") against the same layers run one at
/// a time: the same forward, and gradients equal up to the order of the sums over rows (the fused
/// block sums each block of rows first).
@Suite struct NarrowBlockTests {
    /// Shards of 1,399 / 2 rows: two whole blocks of rows and a part that is not a multiple of 16.
    let rows = 2 * NarrowBlockLayer.blockRows + 375

    func config(_ activation: String, perChannel: Bool = false, dropout: Float = 0.4, hidden: [Int] = [8, 9, 5, 4]) throws -> ModelConfig {
        ModelConfig(inputs: 4, hidden: hidden, classes: 2, activation: try ActivationSpec(parsing: activation, perChannel: perChannel),
                    norm: .batch, dropout: dropout)
    }

    /// Runs `steps` SGD steps (Adam would turn the rounding noise of the gradients BatchNorm cancels into
    /// whole steps) and returns the loss of the first step, the gradient of the last step,
    /// the parameters and running statistics after them, and the evaluation's log-probabilities.
    func train(_ config: ModelConfig, fused: Bool, steps: Int = 3, threads: Int = 2) -> (loss: Double, gradient: [Float], model: Model, outputs: [Float]) {
        let data = SyntheticProblem(features: 4, classes: 2, seed: 5).dataset(rows: rows)
        let engine = Engine(model: Model(config: config, seed: 7), optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.1), shards: 2,
                            pool: WorkerPool(threads: threads), dropoutSeed: 3, fusedBlocks: fused)
        let indices = Array(0..<rows)
        var loss = 0.0
        for s in 0..<steps {
            let result = indices.withUnsafeBufferPointer { engine.trainStep(features: data.features, labels: data.labels, indices: $0) }
            if s == 0 { loss = result.loss }
        }
        var outputs = [Float](repeating: 0, count: rows * 2)
        _ = engine.evaluate(features: data.features, labels: data.labels, rows: rows, outputs: &outputs)
        return (loss, engine.gradientValues, engine.model, outputs)
    }

    /// |a - b| within float32 rounding of sums over the batch's rows, relative to the largest value.
    func expectClose(_ a: [Float], _ b: [Float], _ what: String, tolerance: Float = 2e-4) {
        let scale = max(a.map(abs).max() ?? 0, 1e-6)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= tolerance * scale, "\(what): fused and unfused differ by \(worst) (largest value \(scale))")
    }

    /// softexp with alpha < 0 is the one backward that reads the activation's output y (the fused
    /// block's recomputed scratch, the unfused layer's stored output).
    @Test(arguments: ["affine:alpha=0.2,beta=0.8", "gelu", "softexp:alpha=0.3", "softexp:alpha=-0.3"])
    func fusedBlocksMatchTheLayersOneAtATime(_ activation: String) throws {
        for perChannel in [false, true] {
            let config = try config(activation, perChannel: perChannel)
            let fused = train(config, fused: true), unfused = train(config, fused: false)
            // The first step's forward is the same arithmetic on the same rows.
            #expect(abs(fused.loss - unfused.loss) <= 1e-6 * abs(unfused.loss), "\(activation): loss \(fused.loss) vs \(unfused.loss)")
            expectClose(fused.gradient, unfused.gradient, "\(activation) gradient")
            expectClose(fused.model.parameters, unfused.model.parameters, "\(activation) parameters", tolerance: 1e-5)
            expectClose(fused.model.buffers, unfused.model.buffers, "\(activation) running statistics", tolerance: 1e-5)
            expectClose(fused.outputs, unfused.outputs, "\(activation) evaluation", tolerance: 1e-4)
        }
    }

    @Test func withoutDropout() throws {
        let config = try config("affine:alpha=0.2,beta=0.8", dropout: 0)
        let fused = train(config, fused: true), unfused = train(config, fused: false)
        expectClose(fused.gradient, unfused.gradient, "gradient")
        expectClose(fused.outputs, unfused.outputs, "evaluation", tolerance: 1e-4)
    }

    /// Several blocks of rows per shard and 1 or 3 threads: the same bytes (a chain of four narrow
    /// blocks, and chains that start and end beside a wide block).
    @Test(arguments: [[8, 9, 5, 4], [8, 40, 9, 5]])
    func fusedBlocksKeepTheThreadCountOutOfTheModel(_ hidden: [Int]) throws {
        let config = try config("affine", hidden: hidden)
        let one = train(config, fused: true, threads: 1), three = train(config, fused: true, threads: 3)
        #expect(one.model.parameters == three.model.parameters && one.model.buffers == three.model.buffers)
    }

    /// A chain that ends before a wide block (its output and gradient go through the workspace) and one
    /// that starts after it (its input gradient is the wide block's), against the layers one at a time.
    @Test(arguments: ["affine:alpha=0.2,beta=0.8", "gelu"])
    func chainsBesideAWideBlockMatchTheLayersOneAtATime(_ activation: String) throws {
        let config = try config(activation, hidden: [8, 40, 9, 5])
        let fused = train(config, fused: true), unfused = train(config, fused: false)
        #expect(abs(fused.loss - unfused.loss) <= 1e-6 * abs(unfused.loss), "\(activation): loss \(fused.loss) vs \(unfused.loss)")
        expectClose(fused.gradient, unfused.gradient, "\(activation) gradient")
        expectClose(fused.model.parameters, unfused.model.parameters, "\(activation) parameters", tolerance: 1e-5)
        expectClose(fused.outputs, unfused.outputs, "\(activation) evaluation", tolerance: 1e-4)
    }

    /// Consecutive narrow blocks are chained: each knows the narrow block before it, and one followed
    /// by a narrow block keeps no output in training (the next recomputes it from z).
    @Test func consecutiveNarrowBlocksAreChained() throws {
        func chain(_ hidden: [Int]) throws -> [String] {
            try Network(config("affine", hidden: hidden)).layers.map { layer in
                guard let block = layer as? NarrowBlockLayer else { return "-" }
                return (block.previous == nil ? "" : "<") + "\(block.width)" + (block.storesOutput ? "" : ">")
            }
        }
        #expect(try chain([8, 9, 5, 4]) == ["8>", "<9>", "<5>", "<4", "-"])
        #expect(try chain([8, 40, 9, 5]) == ["8"] + Array(repeating: "-", count: 4) + ["9>", "<5", "-"])
        let engine = Engine(model: Model(config: try config("affine"), seed: 7), optimizer: OptimizerConfig(kind: .sgd, learningRate: 0.1),
                            shards: 2, pool: WorkerPool(threads: 1), dropoutSeed: 3)
        let data = SyntheticProblem(features: 4, classes: 2, seed: 5).dataset(rows: 64)
        Array(0..<64).withUnsafeBufferPointer { _ = engine.trainStep(features: data.features, labels: data.labels, indices: $0) }
        #expect(engine.workspacesForTesting[0].outputs.map(\.count) == [0, 0, 0, 32 * 4, 32 * 2])
    }

    @Test func onlyNarrowBatchNormBlocksAfterTheActivationAreFused() throws {
        func kinds(_ config: ModelConfig) -> [String] { Network(config).layers.map { String(describing: type(of: $0)) } }
        #expect(kinds(try config("affine")) == Array(repeating: "NarrowBlockLayer", count: 4) + ["LinearLayer"])
        #expect(kinds(try config("affine", hidden: [64, 8])).prefix(4) == ["LinearLayer", "ActivationLayer", "BatchNormLayer", "DropoutLayer"])
        var before = try config("affine")
        before.norm = Normalization(.batch, position: .beforeActivation)
        #expect(!kinds(before).contains("NarrowBlockLayer"))
    }
}
