import CommandLineSupport
import Foundation
import MLPTrainer

/// The flags into `TrainingSettings`: each flag over the preset over the defaults, each checked, one
/// concern at a time (README.md, "Train").
extension Train {
    func resolveSettings() throws -> TrainingSettings {
        var s = preset?.settings ?? TrainingSettings()
        try applyData(to: &s)
        try applyNetwork(to: &s)
        try applyOptimization(to: &s)
        try trainingOptions.apply(to: &s)
        try applyExecution(to: &s)
        try checkFlagConflicts(s)
        return s
    }

    /// The data, how its CSV is read, the task, the test set and the seeds.
    private func applyData(to s: inout TrainingSettings) throws {
        s.data = try Self.parseData(data)
        s.csv.target = format.target
        try format.apply(to: &s.csv)
        s.task = learningTask()
        s.csv.dropInvalidRows = dropInvalidRows
        s.csv.allowNonFinite = allowNonfinite
        s.csv.cache = cache || cacheDir != nil
        s.csv.cacheDirectory = cacheDir
        s.csv.columns = try columnOptions()
        s.testData = testData
        if let testFraction {
            guard testFraction >= 0, testFraction < 1 else { throw ConfigError("--test-fraction must be in [0, 1), got \(testFraction)") }
            s.testFraction = testFraction
        }
        if let splitSeed { s.splitSeed = splitSeed }
        if let seed { s.seed = seed }
    }

    /// The hidden widths, the activation, dropout, normalisation and standardisation.
    private func applyNetwork(to s: inout TrainingSettings) throws {
        if let hidden { s.hidden = try Self.parseHidden(hidden) }
        var perChannel = s.activation.perChannel
        if let activationParams { perChannel = activationParams == .channel }
        if let activation {
            s.activation = try ActivationSpec(parsing: activation, perChannel: perChannel)
        } else {
            s.activation = ActivationSpec(kind: s.activation.kind, initialValues: s.activation.initialValues, perChannel: perChannel)
        }
        if let dropout {
            guard dropout >= 0, dropout < 1 else { throw ConfigError("--dropout must be in [0, 1), got \(dropout)") }
            s.dropout = dropout
        }
        if noBatchnorm && norm != nil && norm != Normalization.Kind.none {
            throw ConfigError("--no-batchnorm and --norm \(norm!.rawValue) contradict each other")
        }
        if let kind = noBatchnorm ? Normalization.Kind.none : norm { s.norm = Normalization(kind, position: normPosition) }
        if let normPosition { s.norm.position = normPosition }
        if noStandardize { s.standardize = false }
    }

    /// `--hidden w1,w2,...`.
    static func parseHidden(_ text: String) throws -> [Int] {
        let widths = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ConfigError("--hidden needs positive widths separated by commas, like 8,9,5,4; got '\(text)'")
        }
        return widths.map { $0! }
    }

    /// The optimizer and its rate, momentum and weight decay, the epochs and the batch size.
    private func applyOptimization(to s: inout TrainingSettings) throws {
        if let optimizer { s.optimizer.kind = optimizer }
        if let lr {
            guard lr > 0, lr.isFinite else { throw ConfigError("--lr must be a positive number, got \(lr)") }
            s.optimizer.learningRate = lr
        }
        if let momentum {
            guard momentum >= 0, momentum < 1 else { throw ConfigError("--momentum must be in [0, 1), got \(momentum)") }
            s.optimizer.momentum = momentum
        }
        if let weightDecay {
            guard weightDecay >= 0, weightDecay.isFinite else { throw ConfigError("--weight-decay must be >= 0, got \(weightDecay)") }
            s.optimizer.weightDecay = weightDecay
        }
        if let epochs {
            guard epochs >= 1 else { throw ConfigError("--epochs must be at least 1, got \(epochs)") }
            s.epochs = epochs
        }
        if let batchSize { s.batchSize = try Self.parseBatchSize(batchSize) }
    }

    /// `--batch-size n|full` (nil: the full batch).
    static func parseBatchSize(_ text: String) throws -> Int? {
        if text == "full" { return nil }
        guard let n = Int(text), n >= 1 else { throw ConfigError("--batch-size must be a positive number or 'full', got '\(text)'") }
        return n
    }

    /// Threads, shards, the initial weights, and the logging and checkpoint periods.
    private func applyExecution(to s: inout TrainingSettings) throws {
        s.threads = threads ?? Launch.defaultThreads
        try ThreadLimit.check(s.threads)
        s.csv.threads = s.threads
        if let shards {
            guard shards >= 1, shards <= 4096 else { throw ConfigError("--shards must be in 1...4096, got \(shards)") }
            s.shards = shards
        }
        s.initPath = self.`init`
        guard logEvery >= 0 else { throw ConfigError("--log-every must be >= 0") }
        guard checkpointEvery >= 0 else { throw ConfigError("--checkpoint-every must be >= 0") }
    }

    /// `--task` and `--loss`.
    func learningTask() -> LearningTask {
        task == .regression ? .regression(loss ?? .mse) : .classification
    }

    func columnOptions() throws -> ColumnOptions {
        var c = ColumnOptions()
        c.features = features.map(ColumnOptions.list)
        c.ignore = ignoreColumns.map(ColumnOptions.list) ?? []
        c.categorical = categorical.map(ColumnOptions.list) ?? []
        c.numeric = numeric.map(ColumnOptions.list) ?? []
        if let naValues { c.naValues = ColumnOptions.list(naValues).filter { !$0.isEmpty } }
        if let maxCategories {
            guard maxCategories >= 2 else { throw ConfigError("--max-categories must be at least 2, got \(maxCategories)") }
            c.maxCategories = maxCategories
        }
        return c
    }

    static func parseData(_ text: String) throws -> TrainingSettings.DataSource {
        guard text == "synthetic" || text.hasPrefix("synthetic:") else { return .csv(path: text) }
        var dims = [4000, 4, 2]
        if text.hasPrefix("synthetic:") {
            let parts = text.dropFirst("synthetic:".count).split(separator: "x").map { Int($0) }
            guard (2...3).contains(parts.count), parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw ConfigError("--data synthetic takes ROWSxFEATURES[xCLASSES], like synthetic:10000x8x3; got '\(text)'")
            }
            for (i, v) in parts.enumerated() { dims[i] = v! }
            guard dims[2] >= 2, dims[0] >= 2 else { throw ConfigError("--data synthetic needs at least 2 rows and 2 classes") }
        }
        return .synthetic(rows: dims[0], features: dims[1], classes: dims[2])
    }
}
