import Foundation

/// Everything needed to continue a run exactly where it stopped (`train --resume`): the model, the
/// optimizer's state, the step counter that keys dropout, the position in the epoch and the metrics
/// so far. Epoch orders are a pure function of (seed, epoch), so no generator state is needed.
public struct TrainingState: Sendable {
    public var checkpoint: Checkpoint
    public var optimizerFirst: [Float]
    public var optimizerSecond: [Float]
    public var optimizerSteps: Int64
    public var step: UInt64
    /// Epochs finished, and mini-batches done of the next one (0 at an epoch boundary).
    public var epochsCompleted: Int
    public var batchesInEpoch: Int
    /// The unfinished epoch's running sums (train loss x weight, weight (rows when unweighted),
    /// correct rows).
    public var epochLossSum: Double
    public var epochWeightSum: Double
    public var epochCorrect: Int
    /// The finished epochs' records, thinned beyond `HistoryBound.capacity` epochs.
    public var history: [EpochRecord]
    /// The plateau schedule's state after the finished epochs (nil in checkpoints of older versions,
    /// whose history is complete: the state is then recomputed from it).
    public var plateau: LearningRateSchedule.Plateau?
    /// The run's settings, so `--resume` needs no flags.
    public var settings: TrainingSettings
    /// The best validation epoch's model so far (`EarlyStopping`), stored as tensors `best/NAME`.
    public var bestModel: Model?
    /// The data files as they were when the run started, by flag (`--data`, `--test-data`), so
    /// `--resume` can refuse a changed file.
    public var dataFingerprints: [String: FileFingerprint] = [:]

    static let fileName = "checkpoint.safetensors"
    static let bestPrefix = "best/"

    public func save(to path: String) throws {
        var tensors = Checkpoint.tensors(of: checkpoint.model)
        tensors["optimizer.first"] = .init(floats: optimizerFirst, shape: [optimizerFirst.count])
        tensors["optimizer.second"] = .init(floats: optimizerSecond, shape: [optimizerSecond.count])
        if let bestModel {
            for (name, tensor) in Checkpoint.tensors(of: bestModel) { tensors[Self.bestPrefix + name] = tensor }
        }
        var metadata = checkpoint.metadata
        var position: [String: String] = [
            "optimizer_steps": String(optimizerSteps), "step": String(step), "epochs_completed": String(epochsCompleted),
            "batches_in_epoch": String(batchesInEpoch), "epoch_loss_sum": String(epochLossSum.bitPattern),
            "epoch_correct": String(epochCorrect), "epoch_weight_sum": String(epochWeightSum.bitPattern),
        ]
        if let plateau {
            position["plateau_rate"] = String(plateau.rate.bitPattern)
            position["plateau_best"] = String(plateau.best.bitPattern)
            position["plateau_bad"] = String(plateau.bad)
        }
        metadata["resume"] = jsonText(position)
        metadata["settings"] = jsonText(settings)
        metadata["history"] = Self.exactHistory(history)
        if !dataFingerprints.isEmpty { metadata["data_fingerprints"] = jsonText(dataFingerprints) }
        try AtomicFile.write(Safetensors.encode(tensors, metadata: metadata), to: path)
    }

    public static func load(path: String) throws -> TrainingState {
        var (tensors, metadata) = try Checkpoint.read(path: path)
        let bestNames = tensors.keys.filter { $0.hasPrefix(Self.bestPrefix) }
        let bestTensors = Dictionary(uniqueKeysWithValues: bestNames.map { (String($0.dropFirst(Self.bestPrefix.count)), tensors.removeValue(forKey: $0)!) })
        guard let first = tensors.removeValue(forKey: "optimizer.first"), let second = tensors.removeValue(forKey: "optimizer.second"),
              let positionText = metadata["resume"], let settingsText = metadata["settings"], let historyText = metadata["history"],
              let position = try? JSONDecoder().decode([String: String].self, from: Data(positionText.utf8)),
              let settings = try? JSONDecoder().decode(TrainingSettings.self, from: Data(settingsText.utf8)),
              let optimizerSteps = position["optimizer_steps"].flatMap({ Int64($0) }), let step = position["step"].flatMap({ UInt64($0) }),
              let epochs = position["epochs_completed"].flatMap({ Int($0) }), let batches = position["batches_in_epoch"].flatMap({ Int($0) }),
              let lossBits = position["epoch_loss_sum"].flatMap({ UInt64($0) }), let correct = position["epoch_correct"].flatMap({ Int($0) }),
              let weightBits = position["epoch_weight_sum"].flatMap({ UInt64($0) })
        else { throw ArtifactError("\(path): not a resumable checkpoint (written by an older or interrupted write?)") }
        let checkpoint = try Checkpoint.load(path: path, tensors: tensors, metadata: metadata)
        var bestModel: Model?
        if !bestTensors.isEmpty {
            var model = checkpoint.model
            try Checkpoint.assign(bestTensors, to: &model, source: path + " (best epoch)")
            bestModel = model
        }
        let history = try parseHistory(historyText, path)
        guard epochs >= 0, batches >= 0, correct >= 0, optimizerSteps >= 0, history.count <= epochs,
              history.isEmpty || history.last!.epoch == epochs else {
            throw ArtifactError("\(path): inconsistent position (epochs_completed \(epochs), batches_in_epoch \(batches), "
                                + "\(history.count) epochs of history)")
        }
        let plateau = try Self.plateau(position, path)
        var fingerprints: [String: FileFingerprint] = [:]
        if let text = metadata["data_fingerprints"] {
            guard let decoded = try? JSONDecoder().decode([String: FileFingerprint].self, from: Data(text.utf8)) else {
                throw ArtifactError("\(path): malformed metadata 'data_fingerprints'")
            }
            fingerprints = decoded
        }
        return TrainingState(checkpoint: checkpoint, optimizerFirst: first.floats, optimizerSecond: second.floats,
                             optimizerSteps: optimizerSteps, step: step, epochsCompleted: epochs, batchesInEpoch: batches,
                             epochLossSum: Double(bitPattern: lossBits), epochWeightSum: Double(bitPattern: weightBits), epochCorrect: correct,
                             history: history, plateau: plateau, settings: settings, bestModel: bestModel, dataFingerprints: fingerprints)
    }

    /// The plateau schedule's state saved beside the position, if any.
    private static func plateau(_ position: [String: String], _ path: String) throws -> LearningRateSchedule.Plateau? {
        guard let rateText = position["plateau_rate"] else { return nil }
        guard let rate = UInt64(rateText).map(Double.init(bitPattern:)), let best = position["plateau_best"].flatMap({ UInt64($0) }),
              let bad = position["plateau_bad"].flatMap({ Int($0) }), rate.isFinite, rate > 0, bad >= 0
        else { throw ArtifactError("\(path): malformed plateau state in metadata 'resume'") }
        return .init(rate: rate, best: Double(bitPattern: best), bad: bad)
    }

    /// The history with every number as its exact bit pattern (hex), one epoch per line: epoch, the
    /// nine `figures`, the activation parameters; a regression epoch ends with its test R^2, MAE,
    /// RMSE and rows (empty without a test set), then with a validation set the same four of it.
    static func exactHistory(_ history: [EpochRecord]) -> String {
        let names = history.first?.activationParameters.map(\.name) ?? []
        var lines = [names.joined(separator: ",")]
        func hex(_ value: Double?) -> String { value.map { String($0.bitPattern, radix: 16) } ?? "" }
        for r in history {
            let p = r.validation?.probabilities
            let figures = [r.trainLoss, r.trainAccuracy, r.testLoss, r.testAccuracy, r.learningRate, p?.loss ?? r.validation?.loss,
                           p?.weightedLoss, p?.accuracy, p?.auc]
            var fields = [String(r.epoch)] + figures.map(hex)
            fields += r.activationParameters.map { String($0.value.bitPattern, radix: 16) }
            let regression: [RegressionReport?] = r.validation?.regression.map { [r.testRegression, $0] } ?? r.testRegression.map { [$0] } ?? []
            for m in regression { fields += (m.map { [$0.r2, $0.mae, $0.rmse, Double($0.rows)] } ?? [nil, nil, nil, nil]).map(hex) }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }

    static func parseHistory(_ text: String, _ path: String) throws -> [EpochRecord] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let names = lines[0].isEmpty ? [] : lines[0].split(separator: ",").map(String.init)
        func double(_ s: Substring) throws -> Double? {
            if s.isEmpty { return nil }
            guard let bits = UInt64(s, radix: 16) else { throw ArtifactError("\(path): malformed history") }
            return Double(bitPattern: bits)
        }
        return try lines.dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard [10, 14, 18].map({ $0 + names.count }).contains(f.count), let epoch = Int(f[0]), let trainLoss = try double(f[1]),
                  let trainAccuracy = try double(f[2])
            else { throw ArtifactError("\(path): malformed history") }
            let params = try zip(names, f[10..<(10 + names.count)]).map { name, value -> (name: String, value: Float) in
                guard let bits = UInt32(value, radix: 16) else { throw ArtifactError("\(path): malformed history") }
                return (name, Float(bitPattern: bits))
            }
            let regression = try stride(from: 10 + names.count, to: f.count, by: 4).map { at -> RegressionReport? in
                let m = try f[at..<(at + 4)].map(double)
                guard let rows = m[3] else { return nil }
                guard (0...1e15).contains(rows) else { throw ArtifactError("\(path): malformed history") }
                return RegressionReport(r2: m[0] ?? .nan, mae: m[1] ?? .nan, rmse: m[2] ?? .nan, rows: Int(rows))
            }
            let validation = try double(f[6]).map { loss in
                try regression.count == 2 && regression[1] != nil ? ValidationFigures.regression(loss: loss, report: regression[1]!)
                    : .classification(ProbabilityFigures(loss: loss, weightedLoss: double(f[7]), accuracy: double(f[8]) ?? .nan, auc: double(f[9])))
            }
            return EpochRecord(epoch: epoch, trainLoss: trainLoss, trainAccuracy: trainAccuracy, testLoss: try double(f[3]),
                               testAccuracy: try double(f[4]), testRegression: regression.first ?? nil,
                               activationParameters: params, learningRate: try double(f[5]), validation: validation)
        }
    }
}
