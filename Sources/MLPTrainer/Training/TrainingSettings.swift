/// Everything a training run needs, resolved from the command line (see `train --help`). Codable:
/// the checkpoint stores it, so `--resume` restores the run's settings without its command line.
public struct TrainingSettings: Sendable, Codable {
    public enum DataSource: Sendable, Equatable, Codable {
        case synthetic(rows: Int, features: Int, classes: Int)
        case csv(path: String)
    }

    public var data: DataSource = .synthetic(rows: 4000, features: 4, classes: 2)
    /// Classes or a number (`--task`, `--loss`).
    public var task = LearningTask.classification
    /// How CSV files are read (header, delimiter, target, invalid values, cache, parser threads).
    public var csv = CSVOptions()
    public var testData: String?
    public var testFraction = 0.2
    public var splitSeed: UInt32 = 33
    public var seed: UInt64 = 0
    public var hidden = [8, 9, 5, 4]
    /// swish with a learnable beta: the best of the learnable activations on the built-in data and
    /// on bank notes (README's activation table), and nonlinear, so the default network learns.
    public var activation = ActivationSpec(kind: ActivationSpec.named("swish")!)
    /// nil: the task's default (`LearningTask.defaultDropout`), whenever the task is set.
    public var dropout: Float?
    public var norm = Normalization.batch
    public var standardize = true
    public var optimizer = OptimizerConfig()
    public var epochs = 300
    /// nil: full batch.
    public var batchSize: Int? = 64
    public var threads = 1
    /// Shards per mini-batch; nil: `ShardLayout.defaultShards`, from the batch and the network
    /// alone, so the model does not depend on --threads.
    public var shards: Int?
    public var initPath: String?
    /// Class weights in the loss, validation and early stopping, the learning-rate schedule and
    /// gradient clipping (README.md, "Imbalanced data, validation and schedules").
    public var classWeight = ClassWeighting.none
    /// Validation rows taken from the training rows (stratified for classification, at random for
    /// regression), or a file (`validationData`).
    public var validationFraction = 0.0
    public var validationData: String?
    public var earlyStopping = EarlyStopping()
    public var lrSchedule = LearningRateSchedule.constant
    public var warmupEpochs = 0
    public var clipGradNorm: Float?
    /// The file paths as the command line gave them, by `description` key, once the checkpoint's
    /// copy has them absolute (`train`'s RunInputs): the configuration in the model and summary.json
    /// still names them as given, so a resumed run writes the bytes an uninterrupted one does.
    public var givenPaths: [String: String]?

    public init() {}

    /// The dropout the network has: as set, or the task's default.
    public var resolvedDropout: Float { dropout ?? task.defaultDropout }

    /// Whether a validation set is evaluated each epoch (and the best epoch's model kept).
    public var validates: Bool { validationData != nil || validationFraction > 0 }

    /// The seed's recipe (README.md, "Train"): hidden 8,9,5,4, affine alpha=0 beta=0, dropout 0.4, BatchNorm,
    /// Adam 0.001, full batch, 300 epochs, no standardisation, 80/20 split with seed 33.
    public static var seedPreset: TrainingSettings {
        var s = TrainingSettings()
        s.hidden = [8, 9, 5, 4]
        s.activation = ActivationSpec(kind: ActivationSpec.named("affine")!, initialValues: [0, 0])
        s.dropout = 0.4
        s.norm = .batch
        s.optimizer = OptimizerConfig(kind: .adam, learningRate: 0.001)
        s.batchSize = nil
        s.epochs = 300
        s.standardize = false
        s.testFraction = 0.2
        s.splitSeed = 33
        return s
    }

    /// A one-line note when BatchNorm cancels the affine activation's parameters: it ignores
    /// per-channel shifts and positive scales of its input, and a block's shift or scale passes
    /// through the next Linear as one, so every affine activation but possibly the last is cancelled
    /// wherever BatchNorm sits. The gradients are then rounding noise, which Adam turns into steps of
    /// size ~lr. LayerNorm normalises each row instead, so alpha and beta really learn.
    public var cancelledParametersNote: String? {
        guard norm.kind == .batch, activation.kind.name == "affine" else { return nil }
        return "note: BatchNorm cancels the affine activation's alpha and beta (their gradients are rounding noise and their \"learned\" values mean nothing); use --norm layer (LayerNorm normalises each row, so they really learn) or a nonlinear activation"
    }

    /// A one-line note for the affine activation: every layer is then affine, so the whole network
    /// is a linear classifier, however deep.
    public var linearNetworkNote: String? {
        guard activation.kind.name == "affine" else { return nil }
        return "note: with the affine activation the whole network is a linear classifier; for nonlinear class boundaries use e.g. --activation swish"
    }

    /// Settings as strings, for summary.json and (without `threads`, which does not change the
    /// result) the checkpoint's metadata, so any thread count writes the same model file.
    public var description: [String: String] {
        var d: [String: String] = [
            "hidden": hidden.map(String.init).joined(separator: ","),
            "activation": activation.description,
            "activation_params": activation.perChannel ? "channel" : "scalar",
            "dropout": formatFloat(resolvedDropout),
            "norm": norm.kind.rawValue,
            "norm_position": norm.position.rawValue,
            "standardize": String(standardize),
            "optimizer": optimizer.kind.rawValue,
            "lr": formatFloat(optimizer.learningRate),
            "momentum": formatFloat(optimizer.momentum),
            "weight_decay": formatFloat(optimizer.weightDecay),
            "epochs": String(epochs),
            "batch_size": batchSize.map(String.init) ?? "full",
            "threads": String(threads),
            "shards": shards.map(String.init) ?? "auto",
            "seed": String(seed),
            "split_seed": String(splitSeed),
            "test_fraction": String(testFraction),
            "class_weight": classWeight.description,
            "early_stopping": earlyStopping.patience.map(String.init) ?? "off",
            "early_stopping_metric": earlyStopping.metric.rawValue,
            "lr_schedule": lrSchedule.description,
            "warmup_epochs": String(warmupEpochs),
            "clip_grad_norm": clipGradNorm.map(formatFloat) ?? "off",
        ]
        if validationFraction > 0 { d["validation_fraction"] = String(validationFraction) }
        if let validationData { d["validation_data"] = validationData }
        switch data {
        case let .synthetic(rows, features, classes): d["data"] = "synthetic:\(rows)x\(features)x\(classes)"
        case let .csv(path): d["data"] = path
        }
        if let target = csv.target { d["target"] = target }
        if let loss = task.regressionLoss {
            d["task"] = task.name
            d["loss"] = loss.rawValue
        }
        if let testData { d["test_data"] = testData }
        if let initPath { d["init"] = initPath }
        for (key, path) in givenPaths ?? [:] where d[key] != nil { d[key] = path }
        return d
    }
}
