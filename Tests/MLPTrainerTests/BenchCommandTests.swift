import Foundation
import Testing

/// The `bench` executable at tiny sizes: the machine line, JSON objects with the fields README.md
/// documents ("Benchmark your server"), and the scaling sweep with its plot.
@Suite struct BenchCommandTests {
    static let tiny = ["--hidden", "8,8", "--batch-size", "64", "--steps", "2", "--repeat", "1", "--warmup", "0"]
    static let machineFields: Set = ["cpu", "logical_cpus", "isa", "openmp", "commit"]
    static let throughputFields: Set = ["bench", "machine", "threads", "shards", "workers", "network", "batch_size", "rows",
                                        "samples_per_second", "runs_samples_per_second", "barrier_fraction", "allreduce_fraction"]

    /// Each stdout line as a JSON object.
    static func objects(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    @Test func scalingSweepsThreadCountsAndPlotsSpeedUp() throws {
        let plot = TrainCommandTests.temporaryPath("scaling") + ".svg"
        defer { try? FileManager.default.removeItem(atPath: plot) }
        let r = try Executable.run("bench", ["scaling", "--threads", "1,2", "--json", "--plot", plot] + Self.tiny)
        #expect(r.status == 0, "\(r.stderr)")
        let points = try Self.objects(r.stdout)
        try #require(points.map { $0["threads"] as? Int } == [1, 2])
        for point in points {
            #expect(Set(point.keys) == Self.throughputFields.union(["ranks", "speedup", "ideal_speedup", "efficiency"]))
            #expect(Set((point["machine"] as? [String: Any] ?? [:]).keys) == Self.machineFields)
            #expect(point["bench"] as? String == "scaling" && point["ranks"] as? Int == 1)
            #expect(point["network"] as? String == "28-8-8-2" && (point["samples_per_second"] as? Double ?? 0) > 0)
        }
        #expect(points[0]["speedup"] as? Double == 1 && points[1]["ideal_speedup"] as? Double == 2)
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("data-series=\"measured\"") && svg.contains("data-values=\"1,1 2,2\""))
    }

    @Test func tablesStartWithTheMachineLine() throws {
        let r = try Executable.run("bench", ["scaling", "--threads", "1"] + Self.tiny)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("machine: ") == true && lines[0].contains("logical CPUs, kernels ")
                && lines[0].contains("OpenMP") && lines[0].contains(", commit "))
        #expect(lines.contains { $0.hasPrefix("ranks threads shards workers*   samples/s  speed-up") })
    }

    @Test func wideAndSeedWriteTheirDocumentedFields() throws {
        let wide = try Executable.run("bench", ["wide", "--threads", "2", "--json"] + Self.tiny)
        #expect(wide.status == 0, "\(wide.stderr)")
        #expect(try Self.objects(wide.stdout).map { Set($0.keys) } == [Self.throughputFields])
        let seed = try Executable.run("bench", ["seed", "--epochs", "2", "--json", "--repeat", "1"])
        #expect(seed.status == 0, "\(seed.stderr)")
        #expect(try Self.objects(seed.stdout).map { Set($0.keys) } == [["bench", "machine", "threads", "shards", "rows", "batch_size",
                                                                       "epochs", "fused_blocks", "ms_per_epoch", "runs_ms_per_epoch",
                                                                       "samples_per_second"]])
    }

    /// A file with string columns and blanks is cached too (its encoded matrix), so its reload is
    /// timed like an all-numeric file's (it printed 0 s, "inf MB/s" and "0.0x").
    @Test(arguments: [[String](), ["--categorical", "2", "--missing", "0.05"]])
    func csvTimesTheCacheReload(tabular: [String]) throws {
        let data = TrainCommandTests.temporaryPath("bench-csv") + ".csv"
        defer { try? FileManager.default.removeItem(atPath: data) }
        try #require(try Executable.run("datagen", ["--rows", "3000", "--features", "4", "--format", "short", "--out", data] + tabular).status == 0)
        let r = try Executable.run("bench", ["csv", data, "--target", "label", "--threads", "2", "--repeat", "1", "--warmup", "0", "--json"])
        try #require(r.status == 0, "\(r.stderr)")
        let result = try #require(try Self.objects(r.stdout).first)
        #expect(result["rows"] as? Int == 3000)
        let seconds = result["cache_seconds"] as? Double ?? 0, speedup = result["cache_speedup"] as? Double ?? 0
        #expect(seconds > 0 && speedup > 0 && speedup.isFinite, "\(result)")
    }

    @Test func bandwidthMeasuresTheMemoryAndEstimatesTheSeedStep() throws {
        let r = try Executable.run("bench", ["bandwidth", "--threads", "2", "--megabytes", "8", "--rows", "1000", "--json", "--repeat", "1"])
        // Required before indexing the objects: a failed run is a test failure, not a crash of the test process.
        try #require(r.status == 0, "\(r.stderr)")
        let objects = try Self.objects(r.stdout)
        try #require(objects.count == 3)
        #expect(objects.map { Set($0.keys) } == [
            ["bench", "machine", "threads", "megabytes", "read_gb_per_second", "write_gb_per_second", "copy_gb_per_second"],
            ["bench", "machine", "variant", "rows", "read_gb", "written_gb", "ms_at_bandwidth"],
            ["bench", "machine", "variant", "rows", "read_gb", "written_gb", "ms_at_bandwidth"],
        ])
        #expect(objects.allSatisfy { $0["bench"] as? String == "bandwidth" })
        #expect((objects[0]["read_gb_per_second"] as? Double ?? 0) > 0 && (objects[0]["write_gb_per_second"] as? Double ?? 0) > 0)
        // Fusing the narrow blocks cuts the bytes a step moves (BENCHMARKS.md gives the figures).
        let fused = objects[1], unfused = objects[2]
        #expect(fused["variant"] as? String == "fused" && unfused["variant"] as? String == "unfused")
        #expect((fused["read_gb"] as? Double ?? 1) < (unfused["read_gb"] as? Double ?? 0) / 2)
    }

    @Test func badArgumentsAreRefusedWithUsage() throws {
        let r = try Executable.run("bench", ["scaling", "--threads", "0,2"])
        #expect(r.status != 0 && r.stderr.contains("expected positive integers separated by commas, got '0,2'"))
    }
}

/// `bench scaling --distributed mpi` under mpirun: one sweep over the job's processes (among the
/// MPI tests, which run one job at a time).
extension MPITests {
    @Test func benchScalingSweepsThreadsOverTheJobsProcesses() throws {
        let plot = TrainCommandTests.temporaryPath("scaling-mpi") + ".svg"
        defer { try? FileManager.default.removeItem(atPath: plot) }
        let bench = TrainCommandTests.binary.deletingLastPathComponent().appendingPathComponent("bench").path
        let r = try Executable.collect(Self.mpirun(job: ["-np", "2", bench, "scaling", "--distributed", "mpi", "--threads", "1,2",
                                                         "--shards", "2", "--json", "--plot", plot] + BenchCommandTests.tiny))
        #expect(r.status == 0, "\(r.stderr)")
        // The first process alone prints: one object per thread count, ranks = the job's size.
        let points = try BenchCommandTests.objects(r.stdout)
        #expect(points.map { $0["threads"] as? Int } == [1, 2] && points.allSatisfy { $0["ranks"] as? Int == 2 && $0["shards"] as? Int == 2 })
        #expect(points.allSatisfy { ($0["samples_per_second"] as? Double ?? 0) > 0 })
        #expect(try String(contentsOfFile: plot, encoding: .utf8).contains("data-values=\"2,1 4,2\""))
        let uneven = try Executable.collect(Self.mpirun(job: ["-np", "2", bench, "scaling", "--distributed", "mpi", "--threads", "1",
                                                              "--shards", "3"] + BenchCommandTests.tiny))
        #expect(uneven.status != 0 && uneven.stderr.contains("the 3 shards of a batch do not split evenly over 2 processes"), "\(uneven.stderr)")
    }
}
