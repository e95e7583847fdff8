import Foundation
import Testing
@testable import MLPTrainer

/// ARCHITECTURE.md, "Determinism": for a fixed seed and shard count the model is bit-identical for any
/// number of threads (including more threads than this machine has cores).
@Suite struct DeterminismTests {
    func train(threads: Int, shards: Int, epochs: Int = 3, batchNorm: Bool = true,
               collective: Collective = LocalCollective()) throws -> (model: Data, metrics: String) {
        var s = TrainingSettings()
        s.data = .synthetic(rows: 700, features: 5, classes: 3)
        s.hidden = [16, 8]
        s.epochs = epochs
        s.batchSize = 100
        s.dropout = 0.3
        s.norm = batchNorm ? .batch : .none
        s.threads = threads
        s.shards = shards
        s.seed = 11
        let result = try TrainingRun(settings: s, collective: collective).run()
        let model = try Safetensors.encode(Checkpoint.tensors(of: result.checkpoint.model), metadata: [:])
        return (model, RunWriter.metricsCSV(result.history, task: .classification))
    }

    @Test func anyThreadCountGivesTheSameModel() throws {
        let reference = try train(threads: 1, shards: 4)
        for threads in [2, 3, 4, 8, 16] {
            let other = try train(threads: threads, shards: 4)
            #expect(other.model == reference.model, "threads \(threads) changed the model")
            #expect(other.metrics == reference.metrics, "threads \(threads) changed the metrics")
        }
    }

    /// The shard-tree sum: summing each contiguous group of shards first (what one process of a
    /// multi-process run does), then the groups' sums, gives the bytes of one process.
    @Test func anySplitOfTheShardsIntoGroupsGivesTheSameModel() throws {
        let reference = try train(threads: 2, shards: 8, epochs: 2)
        for groups in [2, 4, 8] {
            let other = try train(threads: 2, shards: 8, epochs: 2, collective: LocalCollective(groups: groups))
            #expect(other.model == reference.model, "\(groups) groups of shards changed the model")
            #expect(other.metrics == reference.metrics, "\(groups) groups of shards changed the metrics")
        }
        // A sequential sum of the groups would not: the test can tell the orders apart.
        let odd = try train(threads: 2, shards: 6, epochs: 2, collective: LocalCollective(groups: 4))
        let six = try train(threads: 2, shards: 6, epochs: 2)
        #expect(odd.model != six.model, "groups that are not subtrees should round differently")
    }

    @Test func shardCountIsPartOfTheMath() throws {
        // Different shard counts sum in different orders: close, but not necessarily identical; the
        // model still has to be a model of the same data (losses within rounding of each other).
        let one = try train(threads: 2, shards: 1, epochs: 1, batchNorm: false)
        let four = try train(threads: 2, shards: 4, epochs: 1, batchNorm: false)
        let lossOne = Double(one.metrics.split(separator: "\n")[1].split(separator: ",")[1])!
        let lossFour = Double(four.metrics.split(separator: "\n")[1].split(separator: ",")[1])!
        #expect(abs(lossOne - lossFour) < 1e-4)
    }

    @Test func evaluationDoesNotDependOnTheThreadCount() throws {
        let config = ModelConfig(inputs: 6, hidden: [16, 8], classes: 3, activation: try ActivationSpec(parsing: "gelu"),
                                 norm: .batch, dropout: 0)
        let model = Model(config: config, seed: 4)
        let data = SyntheticProblem(features: 6, classes: 3, seed: 8).dataset(rows: 5000)
        func evaluate(_ threads: Int) -> (Double, [Int32], [Float]) {
            let engine = Engine(model: model, optimizer: OptimizerConfig(), shards: 1, pool: WorkerPool(threads: threads), dropoutSeed: 0)
            var logprobs = [Float](repeating: 0, count: data.rows * 3)
            let e = engine.evaluate(features: data.features, labels: data.labels, rows: data.rows, outputs: &logprobs)
            return (e.loss, e.predictions, logprobs)
        }
        let one = evaluate(1)
        for threads in [2, 3, 7] {
            let other = evaluate(threads)
            #expect(other.0 == one.0 && other.1 == one.1 && other.2 == one.2, "threads \(threads)")
        }
    }

    @Test func manyShortRunsFindNoRace() throws {
        let reference = try train(threads: 1, shards: 3, epochs: 1)
        for round in 0..<20 {
            let other = try train(threads: 2 + round % 3, shards: 3, epochs: 1)
            #expect(other.model == reference.model, "round \(round)")
        }
    }
}

@Suite struct CheckpointTests {
    @Test func roundTripKeepsEveryTensorAndTheMetadata() throws {
        let config = ModelConfig(inputs: 4, hidden: [8, 3], classes: 2, activation: try ActivationSpec(parsing: "affine:alpha=0.5,beta=2"),
                                 norm: .batch, dropout: 0.25)
        var model = Model(config: config, seed: 9)
        model.buffers = model.buffers.map { $0 + 0.5 }
        model.batchesTracked = 42
        let checkpoint = Checkpoint(model: model, classLabels: ["no", "yes"], featureNames: ["a", "b", "c", "d"],
                                    standardizer: Standardizer(mean: [1, 2, 3, 4], std: [0.5, 1, 2, 4]),
                                    runConfiguration: ["epochs": "3"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try checkpoint.save(to: path)
        let loaded = try Checkpoint.load(path: path)
        #expect(loaded.model.parameters == model.parameters)
        #expect(loaded.model.buffers == model.buffers)
        #expect(loaded.model.batchesTracked == 42)
        #expect(loaded.model.config == config)
        #expect(loaded.classLabels == ["no", "yes"])
        #expect(loaded.featureNames == ["a", "b", "c", "d"])
        #expect(loaded.standardizer == checkpoint.standardizer)
        #expect(loaded.runConfiguration == ["epochs": "3"])
        let (tensors, _) = try Checkpoint.read(path: path)
        #expect(tensors["a1.alpha"]?.shape == [] && tensors["fc1.weight"]?.shape == [8, 4])
        #expect(tensors["bn2.num_batches_tracked"]?.dtype == .i64)
    }

    /// `--resume` restores the run's typed settings from the checkpoint, not from a command line.
    @Test func settingsRoundTripThroughTheirJSON() throws {
        var s = TrainingSettings.seedPreset
        s.data = .csv(path: "x.csv")
        s.csv.target = "label"
        s.activation = try ActivationSpec(parsing: "srelu:t_left=-0.5,a_left=0.2,t_right=1,a_right=1")
        s.norm = Normalization(.layer, position: .afterActivation)
        s.shards = 6
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(s)
        let back = try JSONDecoder().decode(TrainingSettings.self, from: data)
        #expect(try encoder.encode(back) == data)
        #expect(back.activation == s.activation && back.norm == s.norm && back.shards == 6 && back.data == s.data)
        #expect(back.csv.target == "label" && back.batchSize == nil && back.optimizer == s.optimizer)
    }

    @Test func fileLayoutFollowsTheSafetensorsSpec() throws {
        let data = try Safetensors.encode(["b": .init(floats: [1, 2], shape: [2]), "a": .init(int64: 7)], metadata: ["k": "v"])
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(headerLength % 8 == 0)
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        #expect((header["a"] as! [String: Any])["data_offsets"] as! [Int] == [0, 8])
        #expect((header["b"] as! [String: Any])["data_offsets"] as! [Int] == [8, 16])
        #expect(header["__metadata__"] as! [String: String] == ["k": "v"])
        #expect(data.count == 8 + headerLength + 16)
    }

    @Test func initRejectsMissingAndMismatchedTensors() throws {
        let config = ModelConfig(inputs: 4, hidden: [8], classes: 2, activation: try ActivationSpec(parsing: "affine"), norm: .none, dropout: 0)
        var tensors = Checkpoint.tensors(of: Model(config: config, seed: 1))
        var target = Model(config: config, seed: 2)
        tensors["fc1.bias"] = .init(floats: [0, 0, 0], shape: [3])
        #expect(throws: ArtifactError.self) { try Checkpoint.assign(tensors, to: &target, source: "x") }
        do { try Checkpoint.assign(tensors, to: &target, source: "x") } catch {
            #expect("\(error)".contains("fc1.bias"))
        }
        tensors["fc1.bias"] = nil
        do { try Checkpoint.assign(tensors, to: &target, source: "x"); Issue.record("no error") } catch {
            #expect("\(error)" == "x: tensor 'fc1.bias' is missing")
        }
    }
}
