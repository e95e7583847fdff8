import CKernels
import Foundation

/// A trained model applied to new rows: the stored standardisation, evaluation-mode inference on
/// every thread, class probabilities and predicted labels, or regression's predictions in the
/// target's units.
public final class Predictor {
    public let checkpoint: Checkpoint
    private let engine: Engine

    public init(checkpoint: Checkpoint, threads: Int) {
        self.checkpoint = checkpoint
        engine = Engine(model: checkpoint.model, optimizer: OptimizerConfig(), shards: 1, pool: WorkerPool(threads: threads),
                        dropoutSeed: 0)
    }

    public struct Output {
        /// Predicted class index per row (0 for regression).
        public var predictions: [Int32]
        /// rows x classes probabilities (softmax of the logits); regression: each row's prediction
        /// in the target's units.
        public var values: [Float]
        /// rows x classes log-probabilities, as the engine computes them (empty for regression).
        public var logProbabilities: [Float] = []
    }

    /// Checks that `data` has the model's features (by name when both have real names).
    public func check(_ data: Dataset, source: String) throws {
        try data.checkFeatures(match: checkpoint.featureNames, of: "the model", source: source)
    }

    public func predict(_ data: Dataset) -> Output {
        var data = data
        checkpoint.standardizer?.apply(to: &data)
        let k = checkpoint.model.config.classes
        var outputs = [Float](repeating: 0, count: data.rows * k)
        // The engine's loss reads labels, but prediction does not use the loss, and a label the model
        // never saw is -1 (`UnseenLabels`): class 0 for every row keeps the engine's reads in range.
        let labels = [Int32](repeating: 0, count: data.rows)
        let evaluation = data.features.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                engine.evaluate(features: x.baseAddress!, labels: y.baseAddress!, rows: data.rows, outputs: &outputs)
            }
        }
        if let scaling = checkpoint.targetScaling { return Output(predictions: evaluation.predictions, values: scaling.original(outputs)) }
        return Output(predictions: evaluation.predictions, values: outputs.map(expf), logProbabilities: outputs)
    }

    /// The predictions file's header: `predicted`, then `prob_<label>` per class (none for regression).
    public func csvHeader() -> Data {
        Data((["predicted"] + checkpoint.classLabels.map { "prob_\(csvField($0))" }).joined(separator: ",").utf8 + [10])
    }

    /// The predictions as CSV rows (see `csvHeader`), formatted on every thread in blocks of rows
    /// straight into one buffer per block, joined in order: the label and the probabilities, or
    /// regression's prediction.
    public func csvRows(_ output: Output) -> Data {
        let pool = engine.pool, threads = pool.threads
        let labels = checkpoint.classLabels
        let classified = checkpoint.targetScaling == nil
        let k = classified ? labels.count : 1
        let rows = output.predictions.count
        var data = Data()
        let blocks = max(1, min(rows / 4096, threads * 8))
        let labelBytes = labels.map { Array(csvField($0).utf8) }
        // A row is at most the longest label, k numbers of at most 16 characters and k + 1 separators.
        let rowBytes = (labelBytes.map(\.count).max() ?? 0) + k * 17 + 1
        let lengths = Buffer<Int>(count: blocks, zero: 0)
        // ck_format_short may use up to 32 bytes of room for a number: slack after the last one.
        var storage = (0..<blocks).map { b in [UInt8](repeating: 0, count: (rows * (b + 1) / blocks - rows * b / blocks) * rowBytes + 32) }
        storage.withUnsafeMutableBufferPointer { storage in
            output.values.withUnsafeBufferPointer { values in
                output.predictions.withUnsafeBufferPointer { predictions in
                    nonisolated(unsafe) let storage = storage, values = values, predictions = predictions
                    pool.run { worker in
                        for block in pool.range(of: blocks, for: worker) {
                            storage[block].withUnsafeMutableBufferPointer { out in
                                var at = 0
                                for r in (rows * block / blocks)..<(rows * (block + 1) / blocks) {
                                    if classified { for byte in labelBytes[Int(predictions[r])] { out[at] = byte; at += 1 } }
                                    for c in 0..<k {
                                        if classified {
                                            out[at] = 44
                                            at += 1
                                        }
                                        (out.baseAddress! + at).withMemoryRebound(to: CChar.self, capacity: 32) { text in
                                            at += Int(ck_format_short(values[r * k + c], text))
                                        }
                                    }
                                    out[at] = 10
                                    at += 1
                                }
                                lengths[block] = at
                            }
                        }
                    }
                }
            }
        }
        data.reserveCapacity(data.count + (0..<blocks).reduce(0) { $0 + lengths[$1] })
        for b in 0..<blocks { storage[b].withUnsafeBufferPointer { data.append($0.baseAddress!, count: lengths[b]) } }
        return data
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
