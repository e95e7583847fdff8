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

    /// Seconds per call of each of several short `bodies`, measured in turns: every round times each
    /// body once, in order (each repeated as in perCall), so figure i of one body and figure i of
    /// another were taken moments apart and their ratio is a fair pair on a machine whose speed drifts
    /// (compare pairs, as `farm-bench` does, not medians taken at different moments). Returns
    /// `options.repeats` figures per body.
    static func interleaved(_ options: BenchOptions, minimum: Double = 0.002, _ bodies: [() -> Void]) -> [[Double]] {
        // The count of calls per figure from the second call: the first may take page faults.
        let calls = bodies.map { body in body(); return max(1, Int(minimum / max(threadSeconds(body), 1e-9))) }
        func round() -> [Double] {
            zip(bodies, calls).map { body, n in threadSeconds { for _ in 0..<n { body() } } / Double(n) }
        }
        for _ in 0..<options.warmup { _ = round() }
        let rounds = (0..<options.repeats).map { _ in round() }
        return bodies.indices.map { k in rounds.map { $0[k] } }
    }

    /// CPU seconds of the calling thread spent in `body`: on a loaded machine the wall clock also
    /// counts the time other processes held the core.
    static func threadSeconds(_ body: () -> Void) -> Double {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        body()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
