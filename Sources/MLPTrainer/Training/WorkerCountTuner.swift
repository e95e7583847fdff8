/// How many workers run a training step. Which worker runs which shard never changes the arithmetic
/// (each shard's work and every cross-shard sum are fixed by the shard layout), so this is a choice
/// of speed alone: a step whose shards are small costs less on one worker than the barriers and
/// wake-ups that spreading it would need; a large step wants every core.
///
/// The choice is measured, not guessed, once per batch size: after one warm-up step on the most
/// workers that can help (the cores, the threads and the shards bound it), the tuner times
/// `trials` steps at each candidate count, halving from the most to one, and keeps the fastest. It
/// stops halving once a count is clearly slower than the best so far (then compute dominates, and
/// fewer workers only get slower), and does not try fewer workers at all when a step takes longer
/// than `largeStepSeconds`: a step's synchronisation (about ten barriers and a wake-up, tens of
/// microseconds even when workers sleep) is then under 1% of it.
struct WorkerCountTuner {
    static let trials = 2
    static let largeStepSeconds = 0.02
    static let clearlySlower = 1.5

    /// Candidate worker counts, most first: maxWorkers, maxWorkers / 2, ..., 1.
    let candidates: [Int]
    private var tuning: [Int: Trial] = [:]

    private struct Trial {
        var warmedUp = false
        var candidate = 0
        var times: [Double] = []
        var best: (workers: Int, seconds: Double)?
        var chosen: Int?
    }

    init(maxWorkers: Int) {
        var counts = [max(1, maxWorkers)]
        while counts.last! > 1 { counts.append(counts.last! / 2) }
        candidates = counts
    }

    /// The worker count for the next step of `rows` rows.
    func workers(rows: Int) -> Int {
        guard let trial = tuning[rows] else { return candidates[0] }
        return trial.chosen ?? candidates[trial.warmedUp ? trial.candidate : 0]
    }

    /// The count chosen for steps of `rows` rows, once tuning has finished.
    func chosen(rows: Int) -> Int? { tuning[rows]?.chosen }

    /// Records how long a step of `rows` rows took on `workers` workers.
    mutating func record(rows: Int, workers: Int, seconds: Double) {
        var trial = tuning[rows] ?? Trial()
        defer { tuning[rows] = trial }
        guard trial.chosen == nil else { return }
        guard candidates.count > 1 else { trial.chosen = candidates[0]; return }
        guard trial.warmedUp else { trial.warmedUp = true; return }
        if trial.candidate == 0 && seconds >= Self.largeStepSeconds {
            trial.chosen = candidates[0]
            return
        }
        trial.times.append(seconds)
        guard trial.times.count == Self.trials else { return }
        let fastest = trial.times.min()!
        trial.times = []
        if let best = trial.best, fastest > best.seconds * Self.clearlySlower {
            trial.chosen = best.workers
            return
        }
        if trial.best.map({ fastest < $0.seconds }) ?? true { trial.best = (workers, fastest) }
        trial.candidate += 1
        if trial.candidate == candidates.count { trial.chosen = trial.best!.workers }
    }
}
