import Foundation

/// Wall-clock timing: warm-up runs, then the timed ones; figures are medians.
enum Timing {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
    }

    /// Seconds of each of `options.repeats` timed runs of `body`, after `options.warmup` untimed ones.
    static func runs(_ options: BenchOptions, _ body: () throws -> Void) rethrows -> [Double] {
        for _ in 0..<options.warmup { try body() }
        return try (0..<options.repeats).map { _ in try seconds(body) }
    }

    /// Seconds per call of a short `body`: each timed run repeats it for at least `minimum` seconds
    /// (how many times is fixed by one untimed call), so the clock's resolution does not matter.
    static func perCall(_ options: BenchOptions, minimum: Double = 0.02, _ body: () -> Void) -> [Double] {
        let calls = max(1, Int(minimum / max(seconds(body), 1e-9)))
        return runs(options) { for _ in 0..<calls { body() } }.map { $0 / Double(calls) }
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
