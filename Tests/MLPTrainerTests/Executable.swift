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

/// How many times more CPU a process needs under `make test-asan`, for the tests that bound a
/// process's time: there ASAN_OPTIONS has fast_unwind_on_malloc=0 (LeakSanitizer needs it to name
/// the frames of Open MPI's and LLVM OpenMP's libraries, built without frame pointers, so that
/// Sanitizers/lsan.supp can match them), and every malloc and free then unwinds its stack with DWARF.
/// Measured on the SIGTERM of a 5,000-epoch run (ResumeAndSignalTests): 2.55 s of CPU against 0.46 s
/// with the fast unwinder in the same AddressSanitizer build (5.5x); on an MPI rank's stop, 1.3 s
/// against 0.24 s. 1 in any other run.
let slowUnwinderFactor: Double =
    ProcessInfo.processInfo.environment["ASAN_OPTIONS"]?.contains("fast_unwind_on_malloc=0") == true ? 6 : 1

/// Whether this is `make test-tsan` (which sets TSAN_OPTIONS). ThreadSanitizer intercepts sigaction
/// and runs the handlers from its own; with UCX loaded too (MPITests' truncated-file job) the SIGBUS
/// path there jumped to a bad address ("ThreadSanitizer:DEADLYSIGNAL", CI of 2026-12-08; not
/// investigated further). That test checks signal handling, not threads, and `make test` runs it.
let underThreadSanitizer = ProcessInfo.processInfo.environment["TSAN_OPTIONS"] != nil
