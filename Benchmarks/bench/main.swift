// bench: throughput benchmarks that print a table a person can read, or with --json one JSON object
// per result that a script can (README.md, "Benchmark your server", lists the fields).
import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Throughput benchmarks of the trainer and its kernels.",
        discussion: """
            Every subcommand first prints a machine line (CPU model, logical CPUs, kernel instruction set, \
            OpenMP runtime, commit), then a table; figures are medians of --repeat timed runs after --warmup \
            untimed ones. With --json it prints instead one JSON object per line per result, each with \
            "bench" (the subcommand), "machine" (the machine line's fields) and the result's fields.
            """,
        subcommands: [Scaling.self, Wide.self, Seed.self, Gemm.self, Activations.self, CSVLoad.self, Bandwidth.self])
}

Bench.main()
