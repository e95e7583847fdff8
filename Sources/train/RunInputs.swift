import Foundation
import MLPTrainer

/// A run's input files as `--resume` needs them: paths made absolute in the stored command line (so
/// a resume from another directory reads the same files) and fingerprints to refuse a changed file
/// (README, "What the trainer guarantees").
enum RunInputs {
    static let pathFlags: Set<String> = ["--data", "--test-data", "--init", "--cache-dir"]
    static let fingerprintedFlags = ["--data", "--test-data"]

    /// `arguments` with the value of every path flag made absolute (synthetic data left as it is).
    static func absolutePaths(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var pending: String?
        for argument in arguments {
            if let flag = pending {
                out.append(absolute(argument, for: flag))
                pending = nil
            } else if let equals = argument.firstIndex(of: "="), pathFlags.contains(String(argument[..<equals])) {
                let flag = String(argument[..<equals])
                out.append(flag + "=" + absolute(String(argument[argument.index(after: equals)...]), for: flag))
            } else {
                if pathFlags.contains(argument) { pending = argument }
                out.append(argument)
            }
        }
        return out
    }

    private static func absolute(_ path: String, for flag: String) -> String {
        if path.hasPrefix("/") || path.isEmpty || (flag == "--data" && path.hasPrefix("synthetic")) { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The CSV files of `settings` by flag.
    static func fingerprints(_ settings: TrainingSettings) throws -> [String: FileFingerprint] {
        var out: [String: FileFingerprint] = [:]
        if case let .csv(path) = settings.data { out["--data"] = try FileFingerprint(path: path) }
        if let test = settings.testData { out["--test-data"] = try FileFingerprint(path: test) }
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
