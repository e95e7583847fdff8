/// summary.json (README.md, "Outputs"): what a finished run measured, one typed field per figure,
/// written with snake_case keys (`testAccuracy` -> `test_accuracy`). A figure that is not finite
/// (a diverged loss) is nil, which JSON writes as null.
public struct RunSummary: Encodable, Sendable {
    // The result, on `reportSet` ("test", or "train" without a test set): the accuracy, or for
    // regression R^2, MAE and RMSE (written only for regression).
    public var task: String
    @NullWhenNil public var testAccuracy: Double?
    public var testR2: Double?
    public var testMae: Double?
    public var testRmse: Double?
    @NullWhenNil public var finalTrainLoss: Double?
    @NullWhenNil public var finalTestLoss: Double?
    public var reportSet: String
    public var classLabels: [String]
    public var epochs: Int
    /// Stopped before its last epoch (Ctrl-C, SIGTERM); `--resume` continues it.
    public var interrupted: Bool

    // The data.
    public var rows: Int
    public var trainRows: Int
    public var testRows: Int
    public var features: Int
    public var invalidRows: Int
    public var loadSeconds: Double
    /// CSV parsing speed (nil for the built-in synthetic data).
    @NullWhenNil public var loadMbPerSecond: Double?
    public var loadFromCache: Bool

    // The speed.
    /// Processes (`--distributed mpi`; 1 otherwise) and threads per process.
    public var processes: Int
    public var threads: Int
    public var shards: Int
    /// Workers a step ran on (WorkerCountTuner's choice).
    public var stepWorkers: Int
    public var parameters: Int
    /// All epochs, with evaluation, without checkpoint writes.
    public var trainSeconds: Double
    public var stepSeconds: Double
    public var evalSeconds: Double
    public var checkpointSeconds: Double
    public var trainSamplesPerSecond: Double
    public var barrierFraction: Double
    public var allreduceFraction: Double

    /// The run's settings as text (`TrainingSettings.description`).
    public var config: [String: String]

    // Beyond accuracy, and the validation (`record`; README.md, "Imbalanced data, validation and
    // schedules"). Omitted when nil: the weighted loss without class weights, ROC AUC without two
    // classes, the best epoch without a validation set, the classification figures for regression (and
    // R^2 for classification).
    @NullWhenNil public var testLogLoss: Double? = nil
    public var testWeightedLoss: Double?
    public var testRocAuc: Double?
    public var testBalancedAccuracy: Double?
    public var testRecallPerClass: [String: Double]?
    public var epochsRun = 0
    public var stoppedEarly = false
    public var bestEpoch: Int?
    public var bestValidationLoss: Double?
    public var bestValidationAccuracy: Double?
    public var bestValidationAuc: Double?
    public var bestValidationR2: Double?
    /// Training diverged after the best validation epoch (whose model this run wrote): the error,
    /// written only then.
    public var diverged: String?

    /// The value, or nil when it is not finite.
    static func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }
}

/// An optional figure that summary.json always has: its value, or null.
@propertyWrapper
public struct NullWhenNil: Encodable, Sendable {
    public var wrappedValue: Double?
    public init(wrappedValue: Double?) { self.wrappedValue = wrappedValue }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
