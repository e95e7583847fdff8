import ArgumentParser
import Foundation
import MLPTrainer

/// `bench csv FILE`: CSV -> float32 load throughput, peak resident memory during a load, and the
/// speed of reloading from the binary cache.
struct CSVLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "MB/s of loading a CSV file into float32, peak memory, and the cache's reload speed (anchor: polars).",
        discussion: """
            JSON fields: file, bytes, threads, rows, features, load_seconds, runs_load_seconds, \
            load_mb_per_second, matrix_bytes, peak_rss_overhead_bytes, cache_seconds, cache_speedup.
            """)

    @OptionGroup var options: BenchOptions
    @Argument(help: "The CSV file.") var file: String
    @Option(help: "Parser threads (default: all logical CPUs).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "The label column, by name or 0-based index (HIGGS and datagen --label first: 0).") var target = "0"

    struct Result: Encodable {
        var file: String, bytes: Int, threads: Int, rows: Int, features: Int
        var loadSeconds: Double
        var runsLoadSeconds: [Double]
        var loadMbPerSecond: Double
        var matrixBytes: Int, peakRssOverheadBytes: Int
        var cacheSeconds: Double, cacheSpeedup: Double
    }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("need --threads >= 1") }
    }

    /// VmRSS and VmHWM of this process in bytes.
    static func memory() -> (rss: Int, hwm: Int) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }

    /// Resets VmHWM to the current RSS (Linux >= 4.0), so the next reading is this phase's peak.
    static func resetPeak() {
        if let fd = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            fd.write(Data("5".utf8))
            try? fd.close()
        }
    }

    func run() throws {
        let plain = CSVOptions(target: target, threads: threads)
        var peakOverhead = Int.max
        var report: LoadReport?
        var matrixBytes = 0
        let runs = try Timing.runs(options) {
            Self.resetPeak()
            let before = Self.memory().rss
            let (data, loaded) = try loadCSV(path: file, options: plain)
            matrixBytes = data.features.count * 4 + data.labels.count * 4
            peakOverhead = min(peakOverhead, Self.memory().hwm - before - matrixBytes)
            report = loaded
        }
        guard let report else { return }
        let seconds = Timing.median(runs)
        let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-csv-cache-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: cacheDirectory) }
        let cached = CSVOptions(target: target, threads: threads, cache: true, cacheDirectory: cacheDirectory)
        _ = try loadCSV(path: file, options: cached)  // writes the cache (the encoded matrix, for string columns or blanks)
        let cacheSeconds = Timing.median(try Timing.runs(options) {
            guard try loadCSV(path: file, options: cached).1.fromCache else { throw DataError("\(file): the cache was not used") }
        })
        let r = Result(file: file, bytes: report.bytes, threads: threads, rows: report.rows, features: report.features,
                       loadSeconds: seconds, runsLoadSeconds: runs, loadMbPerSecond: Double(report.bytes) / seconds / 1e6,
                       matrixBytes: matrixBytes, peakRssOverheadBytes: peakOverhead, cacheSeconds: cacheSeconds,
                       cacheSpeedup: seconds / cacheSeconds)
        let reporter = Reporter(bench: "csv", options: options)
        let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1_048_576) }
        reporter.line("CSV load: \(file) (\(fixed(Double(report.bytes) / 1e6, 0, 1)) MB), \(threads) thread(s)")
        reporter.line(String(format: "  parse         %8.3f s  %7.0f MB/s   (runs: %@)", seconds, r.loadMbPerSecond,
                             runs.map { String(format: "%.3f", $0) }.joined(separator: ", ")))
        reporter.line("  rows          \(report.rows) x \(report.features) features (target column \(target)), \(report.invalidRows) invalid")
        reporter.line("  matrix        \(mib(matrixBytes)); peak RSS above it while loading: \(mib(peakOverhead)) (budget 256 MiB)")
        reporter.result(r, line: String(format: "  cache reload  %8.4f s  %7.0f MB/s of CSV  (%.1fx faster than parsing)", cacheSeconds,
                                         Double(report.bytes) / cacheSeconds / 1e6, r.cacheSpeedup))
    }
}
