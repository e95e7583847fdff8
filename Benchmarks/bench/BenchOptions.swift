import ArgumentParser

/// The options every subcommand has.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON object per result (one per line) instead of the machine line and tables.")
    var json = false
    @Option(name: .customLong("repeat"), help: "Timed runs per measurement; the figure is their median.")
    var repeats = 5
    @Option(help: "Untimed warm-up runs before the timed ones.")
    var warmup = 1

    func validate() throws {
        guard repeats >= 1, warmup >= 0 else { throw ValidationError("need --repeat >= 1 and --warmup >= 0") }
    }
}
