import ArgumentParser
import Foundation
import MLPTrainer

/// `bench bandwidth`: the machine's memory bandwidth (read, write, copy) on several threads, and the
/// bytes a full-batch step of the seed network moves, so its time per epoch is read against the
/// limit (BENCHMARKS.md).
struct Bandwidth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Memory bandwidth: read, write and copy, GB/s, on several threads.",
        discussion: """
            Each thread streams its own slice of arrays far larger than the caches with 16-byte loads and \
            ordinary (cached) stores, as the kernels do: a write costs a read of the line first. Copy counts \
            the bytes read plus the bytes written (as STREAM does). Then an estimate of the bytes one \
            full-batch step (= epoch) of the seed network (4-8-9-5-4-2, BatchNorm, dropout) reads and writes \
            on --rows rows, with the narrow blocks fused (as trained) and unfused, and the time those bytes \
            take at the measured read and write bandwidth. JSON fields: threads, megabytes, \
            read_gb_per_second, write_gb_per_second, copy_gb_per_second; then per variant (fused, unfused): \
            rows, read_gb, written_gb, ms_at_bandwidth.
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "Threads (default: every logical CPU).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "MiB per array (two arrays: the copy's source and destination).") var megabytes = 256
    @Option(help: "Training rows of the seed step's estimate (full batch).") var rows = 800_000

    struct Result: Encodable {
        var threads: Int, megabytes: Int
        var readGBPerSecond: Double, writeGBPerSecond: Double, copyGBPerSecond: Double
    }

    struct SeedStep: Encodable {
        var variant: String, rows: Int
        var readGB: Double, writtenGB: Double, msAtBandwidth: Double
    }

    func validate() throws {
        guard threads >= 1, megabytes >= 1, rows >= 1 else { throw ValidationError("need --threads, --megabytes and --rows >= 1") }
    }

    func run() throws {
        let reporter = Reporter(bench: "bandwidth", options: options)
        let vectors = megabytes << 20 / MemoryLayout<SIMD4<UInt32>>.stride
        let source = UnsafeMutablePointer<SIMD4<UInt32>>.allocate(capacity: vectors)
        let target = UnsafeMutablePointer<SIMD4<UInt32>>.allocate(capacity: vectors)
        defer { source.deallocate(); target.deallocate() }
        let bytes = Double(vectors * MemoryLayout<SIMD4<UInt32>>.stride)
        let pool = WorkerPool(threads: threads)
        // Runs `body` on every thread, each on its own contiguous part of the arrays.
        func parallel(_ body: @escaping (Range<Int>) -> Void) { pool.run(workers: threads) { body(pool.range(of: vectors, for: $0)) } }
        func seconds(_ body: @escaping (Range<Int>) -> Void) -> Double { Timing.median(Timing.runs(options) { parallel(body) }) }
        // Touch every page first, with the threads that stream them.
        parallel { Self.write(source + $0.lowerBound, $0.count); Self.write(target + $0.lowerBound, $0.count) }
        // The sum goes back into the array, so the loads cannot be dropped.
        let read = seconds { source[$0.lowerBound] = Self.readSum(source + $0.lowerBound, $0.count) }
        let write = seconds { Self.write(target + $0.lowerBound, $0.count) }
        let copy = seconds { Self.copy(source + $0.lowerBound, target + $0.lowerBound, $0.count) }
        let result = Result(threads: threads, megabytes: megabytes, readGBPerSecond: bytes / read * 1e-9,
                            writeGBPerSecond: bytes / write * 1e-9, copyGBPerSecond: 2 * bytes / copy * 1e-9)
        reporter.result(result, line: String(
            format: "memory bandwidth, %d threads, %d MiB arrays: read %.1f GB/s, write %.1f GB/s, copy %.1f GB/s (read + written)",
            threads, megabytes, result.readGBPerSecond, result.writeGBPerSecond, result.copyGBPerSecond))
        let seed = TrainingSettings.seedPreset.hidden
        for fused in [true, false] {
            let bytes = StepTraffic(sizes: [4] + seed + [2], fused: fused).bytes(rows: rows)
            let ms = (bytes.read / result.readGBPerSecond + bytes.written / result.writeGBPerSecond) * 1e-6
            let step = SeedStep(variant: fused ? "fused" : "unfused", rows: rows, readGB: bytes.read * 1e-9, writtenGB: bytes.written * 1e-9,
                                msAtBandwidth: ms)
            reporter.result(step, line: String(
                format: "seed step, full batch of %d rows, %@ blocks: reads %.2f GB, writes %.2f GB: %.1f ms at this bandwidth",
                rows, step.variant, step.readGB, step.writtenGB, ms))
        }
    }

    /// A sum over the slice; four accumulators keep four loads in flight.
    private static func readSum(_ p: UnsafePointer<SIMD4<UInt32>>, _ n: Int) -> SIMD4<UInt32> {
        var a = SIMD4<UInt32>(), b = a, c = a, d = a
        var i = 0
        while i + 4 <= n {
            a &+= p[i]; b &+= p[i + 1]; c &+= p[i + 2]; d &+= p[i + 3]
            i += 4
        }
        while i < n { a &+= p[i]; i += 1 }
        return a &+ b &+ c &+ d
    }

    /// Stores that depend on the index, so the loop is not turned into memset (whose streaming
    /// stores skip the read of each line that ordinary stores pay).
    private static func write(_ p: UnsafeMutablePointer<SIMD4<UInt32>>, _ n: Int) {
        for i in 0..<n { p[i] = SIMD4(repeating: UInt32(truncatingIfNeeded: i)) }
    }

    /// An element-wise pass (not memcpy, for the same reason as `write`).
    private static func copy(_ from: UnsafePointer<SIMD4<UInt32>>, _ to: UnsafeMutablePointer<SIMD4<UInt32>>, _ n: Int) {
        for i in 0..<n { to[i] = from[i] &+ SIMD4(repeating: 1) }
    }
}
