import Foundation

/// Runs one of the package's executables (built beside `train`, see TrainCommandTests.binary) as a
/// user does, and collects its exit status and output.
enum Executable {
    static func run(_ name: String, _ arguments: [String]) throws -> TrainCommandTests.Outcome {
        let process = Process()
        process.executableURL = TrainCommandTests.binary.deletingLastPathComponent().appendingPathComponent(name)
        process.arguments = arguments
        return try collect(process)
    }

    /// Starts `process`, waits for its end and collects its exit status and output.
    static func collect(_ process: Process) throws -> TrainCommandTests.Outcome {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                     stderr: String(decoding: stderr, as: UTF8.self))
    }
}
