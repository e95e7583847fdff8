import CKernels
import Foundation

/// One epoch's figures, as written to metrics.csv.
public struct EpochRecord: Sendable {
    public var epoch: Int
    /// Mean loss and accuracy over the epoch's steps, in training mode (dropout on).
    public var trainLoss: Double
    public var trainAccuracy: Double
    /// Evaluation mode on the test set (nil without one).
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// Regression: R^2, MAE and RMSE on the test set (nil without one, and for classification).
    public var testRegression: RegressionReport? = nil
    /// Every learnable activation parameter: per-layer scalars by name (`a1.alpha`), per-channel
    /// ones as their mean, min and max (`a1.t_left.mean`, ...).
    public var activationParameters: [(name: String, value: Float)]
    /// The learning rate the epoch trained with (`LearningRateSchedule`).
    public var learningRate: Double?
    /// Evaluation mode on the validation set (nil without one).
    public var validation: ValidationFigures?
}

/// What a finished run leaves: the trained checkpoint, the history and the test report.
public struct TrainingResult: Sendable {
    public var checkpoint: Checkpoint
    public var history: [EpochRecord]
    /// The test set's report (or the training set's when there is none): a classification report,
    /// or for regression `regressionReport`.
    public var report: ClassificationReport?
    public var regressionReport: RegressionReport?
    /// Regression: (true, predicted) of at most `ReportWriter.scatterRows` rows of the report set,
    /// evenly spaced, for the predicted-vs-true plot.
    public var predictedVersusTrue: [(truth: Double, predicted: Double)] = []
    public var summary: RunSummary
    /// "test", or "train" without a test set.
    public var reportSet: String { summary.reportSet }
    /// Stopped early (by `TrainingControl.shouldStop`).
    public var interrupted: Bool { summary.interrupted }
    /// Set when training diverged after a best validation epoch: the result is that epoch's model,
    /// and the caller reports this error once the outputs are written.
    public var divergence: TrainingError?
}

/// How the caller steers a run: progress callbacks, periodic state saving, early stop, resume.
public struct TrainingControl {
    public var onEpoch: (EpochRecord) -> Void = { _ in }
    /// After each step: epoch, rows done in the epoch, rows per epoch, the step's loss.
    public var onStep: (Int, Int, Int, Double) -> Void = { _, _, _, _ in }
    /// Checked after every step; true stops the run after saving its state.
    public var shouldStop: () -> Bool = { false }
    public var saveState: (TrainingState) throws -> Void = { _ in }
    /// Save the state every this many epochs; 0: at the first epoch end after every
    /// `checkpointSeconds` of training (and always at the end or when stopped).
    public var checkpointEvery = 0
    public var checkpointSeconds: Double = 60
    public var resume: TrainingState?
    /// Epochs the history keeps before it is thinned (`HistoryBound`); tests lower it.
    public var historyCapacity = HistoryBound.capacity
    public init() {}
}

/// Stopped during the first epoch: the state is saved (so --resume works), there is nothing to report.
public struct InterruptedBeforeFirstEpoch: Error {}

/// Training cannot go on (a non-finite loss). One line for the user.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Loads the data, trains, evaluates: the whole of `train` but the flags and the files.
public final class TrainingRun {
    /// The run's settings, with the shard count resolved (`shards` is never nil here).
    public let settings: TrainingSettings
    public let shards: Int
    public private(set) var train: Dataset
    public private(set) var test: Dataset?
    /// Evaluated after each epoch; the best epoch's model is the one written (`EarlyStopping`).
    public private(set) var validation: Dataset?
    /// Per class, its weight in the training loss (`--class-weight`); nil: unweighted.
    public let classWeights: [Float]?
    public let standardizer: Standardizer?
    /// Without a column encoding: each feature's median over the training rows (before
    /// standardisation), stored with the model for the values `predict` finds missing.
    public let featureMedians: [Float]?
    public let loadSeconds: Double
    /// The training file's load figures (nil for the built-in synthetic data).
    public let loadReport: LoadReport?
    /// Where the shards' sums are combined (this process alone, by default).
    public let collective: Collective
    /// The loader's notes about the training file's columns (`LoadReport.notes`).
    public let loadNotes: [String]
    /// Regression's targets: each set's standardised targets (what the network learns) and its
    /// values in the target's units (what the report compares with).
    struct RegressionSet {
        let standardized: Buffer<Float>
        let truth: [Double]
    }
    public private(set) var targetScaling: TargetScaling?
    private var regressionSets: (train: RegressionSet, test: RegressionSet?, validation: RegressionSet?)?

    /// Loads and splits the data and checks the configuration against it; throws (with one line for
    /// the user) before anything is written.
    public init(settings: TrainingSettings, collective: Collective = LocalCollective()) throws {
        self.collective = collective
        try Self.refuseOptionsTheTaskLacks(settings)
        let started = Date()
        let (full, report) = try Self.loadData(settings)
        var (trainRows, test) = try Self.holdOutTest(consume full, settings)
        var (train, validation) = try Self.holdOutValidation(consume trainRows, settings)
        try Self.checkClasses(train, settings)
        classWeights = try settings.classWeight.weights(labels: train.labels, classLabels: train.classLabels)
        var resolved = settings
        resolved.shards = try Self.shards(settings, train, collective)
        shards = resolved.shards!
        self.settings = resolved
        (featureMedians, standardizer) = Self.fillAndStandardize(&train, &test, &validation, settings)
        (self.train, self.test, self.validation) = (train, test, validation)
        if settings.task.isRegression { (targetScaling, regressionSets) = Self.regressionTargets(train, test, validation) }
        loadNotes = report?.notes ?? []
        loadSeconds = Date().timeIntervalSince(started)
        loadReport = report
    }

    public var modelConfig: ModelConfig { Self.modelConfig(settings, train) }

    /// Class weights have no classes to weigh in regression, and each task stops early on its own
    /// figures (`EarlyStopping.Metric`).
    private static func refuseOptionsTheTaskLacks(_ settings: TrainingSettings) throws {
        if settings.task.isRegression && settings.classWeight != .none {
            throw ConfigError("--class-weight applies to classification only; --task regression has no classes to weigh")
        }
        try settings.earlyStopping.metric.check(for: settings.task)
    }

    /// The whole data set: the built-in synthetic one, or the CSV file with its load figures.
    private static func loadData(_ settings: TrainingSettings) throws -> (Dataset, LoadReport?) {
        switch settings.data {
        case let .synthetic(rows, features, classes):
            if settings.task.isRegression {
                throw ConfigError("--task regression needs a CSV file with a numeric target (datagen --task regression writes one)")
            }
            try MemoryBudget.require(MemoryBudget.dataBytes(rows: rows, features: features), for: "--data synthetic:\(rows)x\(features)")
            return (SyntheticProblem(features: features, classes: classes, seed: 1).dataset(rows: rows), nil)
        case let .csv(path):
            return try loadCSV(path: path, options: settings.csv, classLabels: nil, numericTarget: settings.task.isRegression)
        }
    }

    /// The training rows and the test set: `--test-data`'s file, or `--test-fraction` of the rows
    /// (scikit-learn's `train_test_split`), or none.
    private static func holdOutTest(_ full: consuming Dataset, _ settings: TrainingSettings) throws -> (Dataset, Dataset?) {
        if let path = settings.testData { return (full, try loadHeldOutFile(path, like: full, settings)) }
        guard settings.testFraction > 0 else { return (full, nil) }
        let split = TrainTestSplit.split(rows: full.rows, testFraction: settings.testFraction, seed: settings.splitSeed)
        guard !split.train.isEmpty, !split.test.isEmpty else {
            throw ConfigError("\(full.rows) rows are too few to split with --test-fraction \(settings.testFraction)")
        }
        let (kept, test) = (consume full).split(holdingOut: split.test)
        return (kept, test)
    }

    /// `--test-data` or `--validation-data`: read with the training data's columns and, for
    /// classification, its classes.
    private static func loadHeldOutFile(_ path: String, like rows: Dataset, _ settings: TrainingSettings) throws -> Dataset {
        let regression = settings.task.isRegression
        let (set, _) = try loadCSV(path: path, options: settings.csv, classLabels: regression ? nil : rows.classLabels,
                                   encoding: rows.encoding, numericTarget: regression)
        try set.checkFeatures(match: rows.featureNames, of: "the training data", source: path)
        return set
    }

    /// The training rows and the validation set: `--validation-data`'s file, or `--validation-fraction`
    /// of the training rows (stratified for classification, at random for regression), or none.
    private static func holdOutValidation(_ rows: consuming Dataset, _ settings: TrainingSettings) throws -> (Dataset, Dataset?) {
        if let path = settings.validationData { return (rows, try loadHeldOutFile(path, like: rows, settings)) }
        guard settings.validationFraction > 0 else { return (rows, nil) }
        let fraction = settings.validationFraction, seed = settings.splitSeed
        let held = settings.task.isRegression ? TrainTestSplit.split(rows: rows.rows, testFraction: fraction, seed: seed).test
            : StratifiedHoldout.rows(labels: rows.labels, classes: rows.classCount, fraction: fraction, seed: seed)
        guard !held.isEmpty, held.count < rows.rows else {
            throw ConfigError("\(rows.rows) training rows are too few to hold out --validation-fraction \(settings.validationFraction)")
        }
        let (kept, validation) = rows.split(holdingOut: held)
        return (kept, validation)
    }

    /// Classification needs a label column of classes, at least two of them, and two for an AUC.
    private static func checkClasses(_ train: Dataset, _ settings: TrainingSettings) throws {
        guard !settings.task.isRegression else { return }
        try TargetCheck.check(classLabels: train.classLabels, source: settings.description["data"] ?? "the data")
        guard train.classCount >= 2 else {
            throw ConfigError("the training data has only one class ('\(train.classLabels.first ?? "")'); need at least two")
        }
        if settings.earlyStopping.metric == .auc && train.classCount != 2 {
            throw ConfigError("--early-stopping-metric auc needs two classes; the data has \(train.classCount)")
        }
    }

    /// `--shards`, or the default for the batch and the network (`ShardLayout`), once the batch, the
    /// memory and the processes are checked.
    private static func shards(_ settings: TrainingSettings, _ train: Dataset, _ collective: Collective) throws -> Int {
        let batch = min(settings.batchSize ?? train.rows, train.rows)
        if settings.norm.kind == .batch && batch < 2 {
            // A tiny file leaves one training row after the test split: say so, not just the batch rule.
            let (cause, remedy) = train.rows < 2
                ? ("\(settings.description["data"] ?? "the data"): its training split has \(train.rows) row", "add rows")
                : ("--batch-size 1", "use a larger --batch-size")
            throw ConfigError("\(cause), but BatchNorm needs batches of at least 2 rows (\(remedy), or use --norm layer|none)")
        }
        // Before the default shard count, which sizes the network: at least one shard's worth.
        let network = modelConfig(settings, train)
        try MemoryBudget.require(MemoryBudget.trainingBytes(network, shards: settings.shards ?? 1, batchRows: batch),
                                 for: "training the network \(network.sizes.map(String.init).joined(separator: "-"))")
        let shards = settings.shards ?? ShardLayout.defaultShards(batchRows: batch, network: network)
        guard shards % collective.size == 0 else {
            throw ConfigError("the \(shards) shards of a batch do not split evenly over \(collective.size) processes: give --shards "
                              + "a multiple of \(collective.size) (or start as many processes as divide \(shards))")
        }
        return shards
    }

    /// Fills the missing values (the encoding's fills, fitted on the training rows), or without an
    /// encoding finds each feature's median for `predict`, and, with `--standardize`, standardises
    /// every set with the training rows' statistics.
    private static func fillAndStandardize(_ train: inout Dataset, _ test: inout Dataset?, _ validation: inout Dataset?,
                                           _ settings: TrainingSettings) -> ([Float]?, Standardizer?) {
        var medians: [Float]?
        if var encoding = train.encoding {
            encoding.fitFills(on: train, threads: settings.csv.threads)
            encoding.fillMissing(&train)
            train.encoding = encoding
            if test != nil { encoding.fillMissing(&test!) }
            if validation != nil { encoding.fillMissing(&validation!) }
        } else {
            medians = columnMedians(of: train, inputs: Array(0..<train.featureCount), threads: settings.csv.threads).map(fillValue)
        }
        guard settings.standardize else { return (medians, nil) }
        let s = Standardizer(fitting: train)
        s.apply(to: &train)
        if test != nil { s.apply(to: &test!) }
        if validation != nil { s.apply(to: &validation!) }
        return (medians, s)
    }

    /// Regression's target scaling (the training rows' mean and std) and each set's targets. The
    /// loader checked that a regression target is numeric.
    private static func regressionTargets(_ train: Dataset, _ test: Dataset?, _ validation: Dataset?)
        -> (TargetScaling?, (train: RegressionSet, test: RegressionSet?, validation: RegressionSet?)?) {
        guard let trainTruth = train.targetValues else { return (nil, nil) }
        let scaling = TargetScaling(fitting: trainTruth)
        func set(_ truth: [Double]) -> RegressionSet {
            let standardized = Buffer<Float>(count: truth.count)
            standardized.pointer.update(from: scaling.standardized(truth), count: truth.count)
            return RegressionSet(standardized: standardized, truth: truth)
        }
        return (scaling, (set(trainTruth), test.flatMap(\.targetValues).map(set), validation.flatMap(\.targetValues).map(set)))
    }

    private static func modelConfig(_ settings: TrainingSettings, _ train: Dataset) -> ModelConfig {
        var config = ModelConfig(inputs: train.featureCount, hidden: settings.hidden,
                                 classes: settings.task.isRegression ? 1 : train.classCount,
                                 activation: settings.activation, norm: settings.norm, dropout: settings.resolvedDropout)
        config.task = settings.task
        return config
    }

    /// Trains for `settings.epochs` (or continues `control.resume`), calling `control.onEpoch` after
    /// each epoch, `control.onStep` after each step and `control.saveState` every
    /// `control.checkpointEvery` epochs. Stops early, after a whole step, when `control.shouldStop`
    /// says so; the result then has `interrupted` set.
    public func run(control: TrainingControl = TrainingControl()) throws -> TrainingResult {
        let engine = try makeEngine(resuming: control.resume)
        var loop = EpochLoopState(resuming: control.resume, earlyStopping: settings.earlyStopping,
                                  plateau: control.resume?.plateau ?? plateauState(after: control.resume?.history ?? []))
        let started = Date()
        try trainEpochs(engine, &loop, control)
        let trainSeconds = Date().timeIntervalSince(started) - loop.checkpointSeconds
        // A diverged run's only result is a best validation epoch from before (the last checkpoint,
        // saved before the divergence, stays as it was).
        if let divergence = loop.divergence, loop.bestModel == nil { throw divergence }
        guard !loop.history.isEmpty else { throw InterruptedBeforeFirstEpoch() }
        // The written model is the best validation epoch's (README.md, "Imbalanced data, validation and schedules").
        if let bestModel = loop.bestModel { engine.assign(bestModel) }
        let final = finalEvaluation(engine)
        try checkFinite(final.evaluation.loss, loop)
        let regression = final.evaluation.regression
        var result = TrainingResult(checkpoint: checkpoint(engine), history: loop.history, report: final.report, regressionReport: regression?.report,
                                    predictedVersusTrue: regression.map { ReportWriter.scatterSample(truth: $0.truth, predicted: $0.predicted) } ?? [],
                                    summary: summary(engine, loop, final, trainSeconds: trainSeconds))
        (result.divergence, result.summary.diverged) = (loop.divergence, loop.divergence?.description)
        return result
    }

    /// Refuses a model to be written whose loss on the report set is not finite although that set's
    /// values are (a set holding NaN, accepted by --allow-nonfinite, makes its loss NaN by itself).
    private func checkFinite(_ loss: Double, _ loop: EpochLoopState) throws {
        let reportSet = test ?? train
        guard !loss.isFinite, !reportSet.features.contains(where: { !$0.isFinite }) else { return }
        let kept = loop.bestModel == nil ? loop.history.last?.epoch : settings.earlyStopping.best(loop.history)?.epoch
        throw loop.divergence ?? nonFiniteModelError(loss, epoch: kept ?? 0, set: test == nil ? "training" : "test")
    }

    /// The engine over the model a run starts from: the resumed one (with its optimizer state), the
    /// `--init` weights, or a fresh initialisation.
    private func makeEngine(resuming resume: TrainingState?) throws -> Engine {
        var model: Model
        if let resume {
            model = resume.checkpoint.model
            try checkResumable(resume.checkpoint)
        } else {
            model = Model(config: modelConfig, seed: settings.seed)
            if let initPath = settings.initPath {
                let (tensors, metadata) = try Checkpoint.read(path: initPath)
                try checkInitAgrees(metadata, path: initPath)
                try Checkpoint.assign(tensors, to: &model, source: initPath)
            }
        }
        let engine = Engine(model: model, optimizer: settings.optimizer, shards: shards, pool: WorkerPool(threads: settings.threads),
                            dropoutSeed: settings.seed, collective: collective)
        if let resume {
            try engine.restore(optimizerFirst: resume.optimizerFirst, optimizerSecond: resume.optimizerSecond,
                               optimizerSteps: resume.optimizerSteps, step: resume.step)
        }
        engine.classWeights = classWeights
        engine.clipGradNorm = settings.clipGradNorm
        return engine
    }

    /// An `--init` file written by train names its features and classes: they must be this data's, in
    /// its order, or its weights would meet other inputs and outputs than they learned.
    private func checkInitAgrees(_ metadata: [String: String], path: String) throws {
        guard let recorded = try Checkpoint.recordedNames(metadata, path: path) else { return }
        try train.checkFeatures(match: recorded.features, of: "the --init model", source: settings.description["data"] ?? "the data")
        if !settings.task.isRegression, !recorded.classes.isEmpty, recorded.classes != train.classLabels {
            throw ConfigError("\(path): the --init model's classes are \(recorded.classes.joined(separator: ", ")), "
                              + "the data's \(train.classLabels.joined(separator: ", "))")
        }
    }

    /// Rows per mini-batch.
    private var batchRows: Int { min(settings.batchSize ?? train.rows, train.rows) }

    /// An epoch's mini-batches as ranges of its row order. BatchNorm cannot normalise a single row,
    /// so a last batch of one joins the previous.
    private var batchRanges: [Range<Int>] {
        let n = train.rows, batch = batchRows
        var ranges: [Range<Int>] = []
        var start = 0
        while start < n {
            var end = min(start + batch, n)
            if settings.norm.kind == .batch && n - end == 1 { end = n }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// The epochs from `loop.epoch` to `settings.epochs`, until early stopping or `control.shouldStop`.
    private func trainEpochs(_ engine: Engine, _ loop: inout EpochLoopState, _ control: TrainingControl) throws {
        let n = train.rows, shuffled = batchRows < n
        let fullBatchOrder = shuffled ? [] : Array(0..<n), batches = batchRanges
        while loop.epoch <= settings.epochs && !loop.stoppedEarly {
            let rate = settings.lrSchedule.learningRate(epoch: loop.epoch, of: settings.epochs, base: baseLearningRate,
                                                        warmup: settings.warmupEpochs, plateau: loop.plateau)
            // The configured Float itself at the base rate, so a constant schedule changes no bit.
            engine.learningRate = rate == baseLearningRate ? settings.optimizer.learningRate : Float(rate)
            let order = shuffled ? epochOrder(loop.epoch, rows: n) : fullBatchOrder
            guard try trainSteps(engine, order: order, batches: batches, &loop, control), weightsAreFinite(engine, &loop) else { return }
            let record = epochRecord(engine, &loop, learningRate: rate)
            guard try finishEpoch(record, engine, &loop, control) else { return }
        }
    }

    /// The steps of `loop.epoch` (after those a resumed run already took); false when
    /// `control.shouldStop` interrupted the epoch, its state saved, or at a non-finite loss
    /// or, when interrupted, non-finite weights (`loop.divergence`, nothing saved).
    private func trainSteps(_ engine: Engine, order: [Int], batches: [Range<Int>], _ loop: inout EpochLoopState,
                            _ control: TrainingControl) throws -> Bool {
        let done = loop.batchesDone
        for (index, rows) in batches.enumerated() where index >= done {
            let result = trainStep(engine, order[rows])
            guard result.loss.isFinite else {
                loop.divergence = nonFiniteLossError(result.loss, epoch: loop.epoch, stepInEpoch: index + 1, step: engine.step)
                return false
            }
            loop.add(result)
            loop.batchesDone = index + 1
            control.onStep(loop.epoch, rows.upperBound, train.rows, result.loss)
            if control.shouldStop() && rows.upperBound < train.rows {
                // A step whose update overflowed the weights had a finite loss (taken before it):
                // its state would replace the last finite checkpoint.
                guard weightsAreFinite(engine, &loop, stepInEpoch: index + 1) else { return false }
                try saveState(engine, &loop, control)
                loop.interrupted = true
                return false
            }
        }
        loop.batchesDone = 0
        return true
    }

    private func trainStep(_ engine: Engine, _ rows: ArraySlice<Int>) -> Engine.StepResult {
        train.features.withUnsafeBufferPointer { x in
            train.labels.withUnsafeBufferPointer { y in
                rows.withUnsafeBufferPointer { indices in
                    engine.trainStep(features: x.baseAddress!, labels: y.baseAddress!, targets: regressionSets?.train.standardized.pointer,
                                     indices: indices)
                }
            }
        }
    }

    /// False, with `loop.divergence` set, when the weights or BatchNorm's running statistics are not
    /// finite after the epoch (or, with `stepInEpoch`, after that step of it).
    private func weightsAreFinite(_ engine: Engine, _ loop: inout EpochLoopState, stepInEpoch: Int? = nil) -> Bool {
        let nonFinite = ModelValidation.nonFiniteTensors(engine.model)
        if nonFinite.isEmpty { return true }
        loop.divergence = nonFiniteWeightsError(nonFinite, epoch: loop.epoch, stepInEpoch: stepInEpoch, step: engine.step)
        return false
    }

    /// The finished epoch's figures: the means of its steps, and the test and validation sets'
    /// evaluation.
    private func epochRecord(_ engine: Engine, _ loop: inout EpochLoopState, learningRate: Double) -> EpochRecord {
        var record = EpochRecord(epoch: loop.epoch, trainLoss: loop.lossSum / loop.weightSum,
                                 trainAccuracy: Double(loop.correct) / Double(train.rows), testLoss: nil, testAccuracy: nil,
                                 activationParameters: activationParameters(engine), learningRate: learningRate)
        let started = Date()
        if let test {
            let e = evaluate(engine, test, regressionSets?.test, predictions: false)
            record.testLoss = e.loss
            record.testRegression = e.regression?.report
            if !settings.task.isRegression { record.testAccuracy = Double(e.correct) / Double(max(test.rows, 1)) }
        }
        if let validation { record.validation = validationFigures(engine, validation) }
        loop.evalSeconds += Date().timeIntervalSince(started)
        return record
    }

    /// Adds the epoch to the history (its model kept when it is the best so far) and saves the state
    /// when due; false when `control.shouldStop` interrupts the run.
    private func finishEpoch(_ record: EpochRecord, _ engine: Engine, _ loop: inout EpochLoopState,
                             _ control: TrainingControl) throws -> Bool {
        if validation != nil && settings.earlyStopping.best(loop.history + [record])?.epoch == record.epoch { loop.bestModel = engine.model }
        loop.finish(record, earlyStopping: settings.earlyStopping)
        if record.epoch > settings.warmupEpochs { loop.plateau = settings.lrSchedule.observing(monitoredLoss(record), loop.plateau) }
        loop.history = HistoryBound.thinned(loop.history, bestEpoch: validation == nil ? nil : settings.earlyStopping.best(loop.history)?.epoch,
                                            capacity: control.historyCapacity)
        control.onEpoch(record)
        let stopping = control.shouldStop()
        let due = control.checkpointEvery > 0 ? record.epoch % control.checkpointEvery == 0
            : Date().timeIntervalSince(loop.lastSave) >= control.checkpointSeconds
        if stopping || loop.epoch > settings.epochs || due || loop.stoppedEarly {
            try saveState(engine, &loop, control)
            loop.lastSave = Date()
        }
        if stopping && loop.epoch <= settings.epochs {
            loop.interrupted = true
            return false
        }
        return true
    }

    /// Hands the state to `control.saveState`. Writing checkpoints is I/O, not training: timed apart
    /// and left out of train_seconds.
    private func saveState(_ engine: Engine, _ loop: inout EpochLoopState, _ control: TrainingControl) throws {
        let started = Date()
        let optimizer = engine.optimizerState
        try control.saveState(TrainingState(
            checkpoint: checkpoint(engine), optimizerFirst: optimizer.first, optimizerSecond: optimizer.second,
            optimizerSteps: optimizer.steps, step: engine.step, epochsCompleted: loop.epoch - 1, batchesInEpoch: loop.batchesDone,
            epochLossSum: loop.lossSum, epochWeightSum: loop.weightSum, epochCorrect: loop.correct, history: loop.history,
            plateau: loop.plateau, settings: settings, bestModel: loop.bestModel))
        loop.checkpointSeconds += Date().timeIntervalSince(started)
    }

    /// The report set's evaluation (the test set, or the training set without one) and, for
    /// classification, its report and probability figures.
    private typealias FinalEvaluation = (evaluation: SetEvaluation, figures: ProbabilityFigures?, report: ClassificationReport?)

    private func finalEvaluation(_ engine: Engine) -> FinalEvaluation {
        let reportSet = test ?? train
        if settings.task.isRegression { return (evaluate(engine, reportSet, test == nil ? regressionSets?.train : regressionSets?.test), nil, nil) }
        let (figures, evaluation) = self.figures(engine, reportSet)
        return (evaluation, figures, ClassificationReport(classLabels: train.classLabels, truth: reportSet.labels, predicted: evaluation.predictions))
    }

    /// summary.json's figures (`RunSummary`).
    private func summary(_ engine: Engine, _ loop: EpochLoopState, _ final: FinalEvaluation, trainSeconds: Double) -> RunSummary {
        let fractions = engine.timeFractions, regression = final.evaluation.regression?.report
        var summary = RunSummary(
            task: settings.task.name, testAccuracy: final.report.flatMap { RunSummary.finite($0.accuracy) },
            testR2: RunSummary.finite(regression?.r2), testMae: RunSummary.finite(regression?.mae), testRmse: RunSummary.finite(regression?.rmse),
            finalTrainLoss: RunSummary.finite(loop.history.last?.trainLoss),
            finalTestLoss: RunSummary.finite(final.evaluation.loss), reportSet: test == nil ? "train" : "test",
            classLabels: classLabels, epochs: loop.history.last?.epoch ?? 0, interrupted: loop.interrupted,
            rows: loadReport?.rows ?? train.rows + (test?.rows ?? 0), trainRows: train.rows, testRows: test?.rows ?? 0,
            features: train.featureCount, invalidRows: loadReport?.invalidRows ?? 0, loadSeconds: loadSeconds,
            loadMbPerSecond: RunSummary.finite(loadReport?.megabytesPerSecond), loadFromCache: loadReport?.fromCache ?? false,
            processes: collective.size, threads: settings.threads, shards: shards,
            stepWorkers: engine.chosenWorkers(rows: batchRows) ?? engine.pool.usefulWorkers,
            parameters: engine.layout.parameterCount, trainSeconds: trainSeconds, stepSeconds: engine.stepSeconds,
            evalSeconds: loop.evalSeconds, checkpointSeconds: loop.checkpointSeconds,
            trainSamplesPerSecond: engine.stepSeconds > 0 ? Double(engine.rowsProcessed) / engine.stepSeconds : 0,
            barrierFraction: fractions.barrier, allreduceFraction: fractions.allReduce, config: settings.description)
        (summary.epochsRun, summary.stoppedEarly) = (loop.history.last?.epoch ?? 0, loop.stoppedEarly)
        if let figures = final.figures, let report = final.report { summary.record(figures, report) }
        if validation != nil { summary.recordBest(settings.earlyStopping, history: loop.history) }
        return summary
    }

    /// The checkpoint's inputs and classes are this data's, and its network these settings'.
    private func checkResumable(_ saved: Checkpoint) throws {
        func list(_ names: [String]) -> String { "\(names.count) (\(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", ..." : ""))" }
        let source = settings.description["data"] ?? "the data"
        guard saved.featureNames == train.featureNames else {
            throw ConfigError("the checkpoint's inputs are \(list(saved.featureNames)), \(source) now gives \(list(train.featureNames)); "
                              + "resuming needs the run's own columns")
        }
        guard saved.classLabels == classLabels else {
            throw ConfigError("the checkpoint's classes are \(list(saved.classLabels)), \(source) now has \(list(classLabels)); "
                              + "resuming needs the run's own classes")
        }
        guard saved.model.config == modelConfig else { throw ConfigError("the checkpoint's network does not match its run's settings") }
    }

    /// `--lr` as typed (0.001, not Float 0.001's 0.0010000000475), as PyTorch's Python float.
    private var baseLearningRate: Double { Double(settings.optimizer.learningRate.description)! }

    /// The loss the plateau schedule monitors: the validation loss (`EarlyStopping.Metric.loss`), or
    /// the train loss without a validation set.
    private func monitoredLoss(_ record: EpochRecord) -> Double {
        record.validation?.loss ?? record.trainLoss
    }

    /// The plateau schedule's state after `history`'s epochs (complete in a checkpoint that stores no state).
    private func plateauState(after history: [EpochRecord]) -> LearningRateSchedule.Plateau {
        history.filter { $0.epoch > settings.warmupEpochs }
            .reduce(LearningRateSchedule.Plateau(rate: baseLearningRate)) { settings.lrSchedule.observing(monitoredLoss($1), $0) }
    }

    /// The model's classes (none for regression).
    private var classLabels: [String] { settings.task.isRegression ? [] : train.classLabels }

    private func checkpoint(_ engine: Engine) -> Checkpoint {
        Checkpoint(model: engine.model, classLabels: classLabels, featureNames: train.featureNames,
                   standardizer: standardizer, targetScaling: targetScaling, encoding: train.encoding,
                   featureMedians: featureMedians, runConfiguration: settings.description.filter { $0.key != "threads" })
    }

    /// The row order of `epoch` for mini-batches: a pure function of (seed, epoch), so a resumed run
    /// sees the same. (A full batch keeps the file order, built once.)
    private func epochOrder(_ epoch: Int, rows n: Int) -> [Int] {
        var order = Array(0..<n)
        var shuffler = SplitMix64(seed: (settings.seed ^ 0x5EED_5AFF_1E00) &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        order.shuffle(using: &shuffler)
        return order
    }

    typealias RegressionEvaluation = (report: RegressionReport, truth: [Double], predicted: [Double])
    typealias SetEvaluation = (loss: Double, correct: Int, predictions: [Int32], regression: RegressionEvaluation?)

    /// The engine's evaluation of `data` (classification's log-probabilities into `logProbabilities`
    /// when given) and, for regression (`targets`), its predictions in the target's units and their
    /// R^2, MAE and RMSE.
    private func evaluate(_ engine: Engine, _ data: Dataset, _ targets: RegressionSet?, predictions: Bool = true,
                          logProbabilities: UnsafeMutablePointer<Float>? = nil) -> SetEvaluation {
        let outputs = targets.map { Buffer<Float>(count: $0.truth.count) }
        let e = data.features.withUnsafeBufferPointer { x in
            data.labels.withUnsafeBufferPointer { y in
                engine.evaluate(features: x.baseAddress!, labels: y.baseAddress!, targets: targets?.standardized.pointer, rows: data.rows,
                                outputs: outputs?.pointer ?? logProbabilities, predictions: predictions && targets == nil)
            }
        }
        guard let targets, let outputs, let targetScaling else { return (e.loss, e.correct, e.predictions, nil) }
        let predicted = targetScaling.original(outputs.array).map(Double.init)
        return (e.loss, e.correct, e.predictions, (RegressionReport(truth: targets.truth, predicted: predicted), targets.truth, predicted))
    }

    /// The evaluation of `data` and what its probabilities say (`ProbabilityFigures`).
    private func figures(_ engine: Engine, _ data: Dataset) -> (figures: ProbabilityFigures, evaluation: SetEvaluation) {
        var logProbabilities = [Float](repeating: 0, count: data.rows * engine.config.classes)
        let evaluation = logProbabilities.withUnsafeMutableBufferPointer { evaluate(engine, data, nil, logProbabilities: $0.baseAddress) }
        return (ProbabilityFigures(logProbabilities: logProbabilities, labels: data.labels, classes: engine.config.classes,
                                   classWeights: classWeights), evaluation)
    }

    /// The validation set's figures: classification's probability figures, or regression's loss
    /// and R^2, MAE and RMSE.
    private func validationFigures(_ engine: Engine, _ data: Dataset) -> ValidationFigures {
        guard let targets = regressionSets?.validation else { return .classification(figures(engine, data).figures) }
        let e = evaluate(engine, data, targets, predictions: false)
        return .regression(loss: e.loss, report: e.regression!.report)
    }

    private func activationParameters(_ engine: Engine) -> [(name: String, value: Float)] {
        var out: [(name: String, value: Float)] = []
        let act = settings.activation
        for l in settings.hidden.indices {
            for param in act.kind.parameters {
                let name = "a\(l + 1).\(param.name)"
                let t = engine.layout.parameter(named: name)!
                let values = (t.offset..<(t.offset + t.count)).map { engine.parameters[$0] }
                if t.shape.isEmpty {
                    out.append((name, values[0]))
                } else {
                    out.append((name + ".mean", values.reduce(0, +) / Float(values.count)))
                    out.append((name + ".min", values.min()!))
                    out.append((name + ".max", values.max()!))
                }
            }
        }
        return out
    }
}
