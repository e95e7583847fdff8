import Foundation
import MLPTrainer

/// `bench csv FILE [threads] [target]`: CSV -> float32 load throughput (median of 3), peak resident
/// memory during a load, and the speed of reloading from the binary cache. Prints a table and one
/// JSON line. The target column defaults to "0" (HIGGS and `datagen --label first`: label first).
enum CSVBench {
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
            fd.write("5".data(using: .utf8)!)
            try? fd.close()
        }
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    static func run(arguments: [String]) {
        guard let path = arguments.first else {
            print("usage: bench csv FILE [threads]")
            return
        }
        let threads = arguments.count > 1 ? Int(arguments[1]) ?? 1 : ProcessInfo.processInfo.activeProcessorCount
        let target = arguments.count > 2 ? arguments[2] : "0"
        let options = CSVOptions(target: target, threads: threads)
        do {
            var times: [Double] = []
            var peakOverhead = Int.max
            var report: LoadReport?
            var matrixBytes = 0
            for _ in 0..<3 {
                resetPeak()
                let before = memory().rss
                let (data, r) = try loadCSV(path: path, options: options)
                let after = memory()
                matrixBytes = data.features.count * 4 + data.labels.count * 4
                peakOverhead = min(peakOverhead, after.hwm - before - matrixBytes)
                times.append(r.seconds)
                report = r
            }
            guard let report else { return }
            let seconds = median(times)
            let mbps = Double(report.bytes) / seconds / 1e6

            // Cache: write once, then reload (median of 3).
            let cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("csvbench-cache-\(getpid())").path
            defer { try? FileManager.default.removeItem(atPath: cacheDir) }
            let cached = CSVOptions(target: target, threads: threads, cache: true, cacheDirectory: cacheDir)
            _ = try loadCSV(path: path, options: cached)
            var cacheTimes: [Double] = []
            for _ in 0..<3 {
                let (_, r) = try loadCSV(path: path, options: cached)
                precondition(r.fromCache)
                cacheTimes.append(r.seconds)
            }
            let cacheSeconds = median(cacheTimes)

            let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1048576) }
            print("CSV load: \(path) (\(String(format: "%.1f", Double(report.bytes) / 1e6)) MB), \(threads) thread(s)")
            print(String(format: "  parse         %8.3f s  %7.0f MB/s   (runs: %@)", seconds, mbps,
                         times.map { String(format: "%.3f", $0) }.joined(separator: ", ")))
            print("  rows          \(report.rows) x \(report.features) features (target column \(target)), \(report.invalidRows) invalid")
            print("  matrix        \(mib(matrixBytes)); peak RSS above it while loading: \(mib(peakOverhead)) (budget 256 MiB)")
            print(String(format: "  cache reload  %8.4f s  %7.0f MB/s of CSV  (%.1fx faster than parsing)", cacheSeconds,
                         Double(report.bytes) / cacheSeconds / 1e6, seconds / cacheSeconds))
            let json: [String: Any] = [
                "benchmark": "csv", "file": path, "bytes": report.bytes, "threads": threads, "rows": report.rows,
                "features": report.features, "load_seconds": seconds, "load_mb_per_second": mbps,
                "matrix_bytes": matrixBytes, "peak_rss_overhead_bytes": peakOverhead,
                "cache_seconds": cacheSeconds, "cache_speedup": seconds / cacheSeconds,
            ]
            if let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
        } catch {
            print("bench csv: \(error)")
        }
    }
}
