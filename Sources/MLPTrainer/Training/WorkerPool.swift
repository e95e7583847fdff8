import CKernels
import Foundation

/// A fixed set of threads created once per run (DESIGN.md: no thread is created per step). The
/// calling thread takes part as worker 0, so `run` with one thread is a plain call.
///
/// `run(body)` executes `body(worker)` on every worker and returns when all have finished; inside,
/// `barrier(worker)` makes every worker wait for the others (between the phases of a step).
public final class WorkerPool: @unchecked Sendable {
    public let threads: Int
    private let shared: Shared

    /// What the threads see. They hold it strongly, so it outlives the pool until they have exited.
    private final class Shared: @unchecked Sendable {
        let start: OpaquePointer, finish: OpaquePointer, inner: OpaquePointer
        var job: ((Int) -> Void)?
        var stopping = false
        /// Seconds each worker waited in `barrier`: written by that worker only.
        let barrierSeconds: UnsafeMutableBufferPointer<Double>

        init(threads: Int, spin: Int32, yield: Bool) {
            start = ck_barrier_create(Int32(threads), spin, yield ? 1 : 0)
            finish = ck_barrier_create(Int32(threads), spin, yield ? 1 : 0)
            inner = ck_barrier_create(Int32(threads), spin, yield ? 1 : 0)
            barrierSeconds = .allocate(capacity: threads)
            barrierSeconds.initialize(repeating: 0)
        }

        deinit {
            ck_barrier_destroy(start)
            ck_barrier_destroy(finish)
            ck_barrier_destroy(inner)
            barrierSeconds.deallocate()
        }

        func loop(_ worker: Int) {
            while true {
                ck_barrier_wait(start)
                if stopping { return }
                job?(worker)
                ck_barrier_wait(finish)
            }
        }
    }

    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
        // With a core per worker, waiting workers spin; oversubscribed, they yield their core to the
        // workers still computing (spinning would take it from them), then sleep.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        shared = threads <= cores ? Shared(threads: threads, spin: 20_000, yield: false)
            : Shared(threads: threads, spin: 200, yield: true)
        for worker in 1..<threads {
            let shared = self.shared
            let thread = Thread { shared.loop(worker) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    deinit {
        guard threads > 1 else { return }
        shared.stopping = true
        ck_barrier_wait(shared.start)
    }

    /// Runs `body(worker)` on workers 0..<threads and waits for all of them.
    public func run(_ body: @escaping (Int) -> Void) {
        guard threads > 1 else { body(0); return }
        shared.job = body
        ck_barrier_wait(shared.start)
        body(0)
        ck_barrier_wait(shared.finish)
        shared.job = nil
    }

    /// Inside `run`: waits until every worker has reached this point.
    public func barrier(_ worker: Int) {
        guard threads > 1 else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        ck_barrier_wait(shared.inner)
        shared.barrierSeconds[worker] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    /// Total seconds spent waiting at inner barriers, summed over workers.
    public var barrierSeconds: Double { shared.barrierSeconds.reduce(0, +) }

    /// The contiguous part of 0..<count that `worker` handles (shards, rows or parameter chunks).
    public func range(of count: Int, for worker: Int) -> Range<Int> {
        (count * worker / threads)..<(count * (worker + 1) / threads)
    }
}
