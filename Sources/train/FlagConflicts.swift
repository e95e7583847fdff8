import MLPTrainer

/// Flags that would be silently ignored in combination are refused instead.
extension Train {
    func checkFlagConflicts(_ settings: TrainingSettings) throws {
        if out?.isEmpty == true { throw ConfigError("--out is empty; give a directory name") }
        if testData != nil && testFraction != nil {
            throw ConfigError("--test-fraction has no effect with --test-data (that file is the test set); give one of them")
        }
        if momentum != nil && settings.optimizer.kind != .sgd {
            throw ConfigError("--momentum applies to --optimizer sgd only, not \(settings.optimizer.kind.rawValue)")
        }
        if let loss, !settings.task.isRegression {
            throw ConfigError("--loss \(loss.rawValue) applies to --task regression only (classification's loss is the log-softmax NLL)")
        }
    }
}
