import CKernels
import Foundation

/// A trained model applied to new rows: the stored standardisation, evaluation-mode inference on
/// every thread, class probabilities and predicted labels.
public final class Predictor {
    public let checkpoint: Checkpoint
    private let engine: Engine

    public init(checkpoint: Checkpoint, threads: Int) {
        self.checkpoint = checkpoint
        engine = Engine(model: checkpoint.model, optimizer: OptimizerConfig(), shards: 1, pool: WorkerPool(threads: threads),
                        dropoutSeed: 0)
    }

    public struct Output {
        /// Predicted class index per row.
        public var predictions: [Int32]
        /// rows x classes probabilities (softmax of the logits).
        public var probabilities: [Float]
    }

    /// Checks that `data` has the model's features (by name when both have real names).
    public func check(_ data: Dataset, source: String) throws {
        let expected = checkpoint.featureNames
        guard data.featureCount == expected.count else {
            throw DataError("\(source): has \(data.featureCount) feature columns; the model needs \(expected.count) (\(expected.joined(separator: ", ")))")
        }
        let generic = (1...max(1, expected.count)).map { "x\($0)" }
        if data.featureNames != generic, expected != generic, let i = expected.indices.first(where: { data.featureNames[$0] != expected[$0] }) {
            throw DataError("\(source): column \(i + 1) is '\(data.featureNames[i])', the model's feature \(i + 1) is '\(expected[i])'")
        }
    }

    public func predict(_ data: Dataset) -> Output {
        var data = data
        checkpoint.standardizer?.apply(to: &data)
        let k = checkpoint.model.config.classes
        var logProbabilities = [Float](repeating: 0, count: data.rows * k)
        let evaluation = data.features.withUnsafeBufferPointer { x in
            data.labels.withUnsafeBufferPointer { y in
                engine.evaluate(features: x.baseAddress!, labels: y.baseAddress!, rows: data.rows, logProbabilities: &logProbabilities)
            }
        }
        for i in logProbabilities.indices { logProbabilities[i] = expf(logProbabilities[i]) }
        return Output(predictions: evaluation.predictions, probabilities: logProbabilities)
    }

    /// The predictions as CSV (`predicted`, then `prob_<label>` per class), formatted on every
    /// thread in blocks of rows and joined in order.
    public func csv(_ output: Output, threads: Int) -> Data {
        let labels = checkpoint.classLabels
        let k = labels.count
        let rows = output.predictions.count
        let header = Data((["predicted"] + labels.map { "prob_\(csvField($0))" }).joined(separator: ",").utf8 + [10])
        let blocks = max(1, min(rows / 4096, threads * 8))
        var parts = [Data](repeating: Data(), count: blocks)
        let labelBytes = labels.map { Array(csvField($0).utf8) }
        let pool = WorkerPool(threads: threads)
        parts.withUnsafeMutableBufferPointer { parts in
            output.probabilities.withUnsafeBufferPointer { probabilities in
                output.predictions.withUnsafeBufferPointer { predictions in
                    let parts = parts, probabilities = probabilities, predictions = predictions
                    pool.run { worker in
                        var number = [CChar](repeating: 0, count: 32)
                        for block in pool.range(of: blocks, for: worker) {
                            var bytes: [UInt8] = []
                            let range = (rows * block / blocks)..<(rows * (block + 1) / blocks)
                            bytes.reserveCapacity(range.count * (8 + 12 * k))
                            for r in range {
                                bytes += labelBytes[Int(predictions[r])]
                                for c in 0..<k {
                                    bytes.append(44)
                                    let n = Int(ck_format_short(probabilities[r * k + c], &number))
                                    for i in 0..<n { bytes.append(UInt8(bitPattern: number[i])) }
                                }
                                bytes.append(10)
                            }
                            parts[block] = Data(bytes)
                        }
                    }
                }
            }
        }
        return parts.reduce(into: header) { $0.append($1) }
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
