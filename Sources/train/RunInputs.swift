import Foundation
import MLPTrainer

/// A run's input files as `--resume` needs them: paths made absolute in the stored settings (so
/// a resume from another directory reads the same files) and fingerprints to refuse a changed file
/// (README, "What the trainer guarantees").
enum RunInputs {
    static let fingerprintedFlags = ["--data", "--test-data", "--validation-data"]

    /// `settings` with every file path made absolute, for the checkpoint, and the paths as given
    /// kept for its description (the model's configuration).
    static func absolutePaths(_ settings: TrainingSettings) -> TrainingSettings {
        var s = settings
        s.givenPaths = settings.description.filter { ["data", "test_data", "validation_data", "init"].contains($0.key) }
        if case let .csv(path) = s.data { s.data = .csv(path: absolute(path)) }
        s.testData = s.testData.map(absolute)
        s.validationData = s.validationData.map(absolute)
        s.initPath = s.initPath.map(absolute)
        s.csv.cacheDirectory = s.csv.cacheDirectory.map(absolute)
        return s
    }

    private static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") || path.isEmpty { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The CSV files of `settings` by flag.
    static func fingerprints(_ settings: TrainingSettings) throws -> [String: FileFingerprint] {
        var out: [String: FileFingerprint] = [:]
        if case let .csv(path) = settings.data { out["--data"] = try FileFingerprint(path: path) }
        if let test = settings.testData { out["--test-data"] = try FileFingerprint(path: test) }
        if let validation = settings.validationData { out["--validation-data"] = try FileFingerprint(path: validation) }
        return out
    }

    /// Throws when a file recorded at the start of the run is different now, unless `allowChange`.
    static func checkUnchanged(_ recorded: [String: FileFingerprint], allowChange: Bool) throws {
        for flag in fingerprintedFlags {
            guard let before = recorded[flag] else { continue }
            let now = try FileFingerprint(path: before.path)
            if let change = before.change(to: now), !allowChange {
                throw ConfigError("\(flag) \(before.path): \(change) since the run started; resuming would train on other data "
                                  + "(pass --allow-data-change to continue anyway)")
            }
        }
    }
}
