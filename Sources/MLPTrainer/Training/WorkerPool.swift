import CKernels
import Foundation

/// A fixed set of threads created once per run: no thread is created per step. The
/// calling thread takes part as worker 0, so a run on one worker is a plain call.
///
/// `run(workers: k, body)` executes `body(worker)` on workers 0..<k and returns when all have
/// finished; the other threads sleep at their own gate, so a small job wakes nobody. Inside,
/// `barrier(worker)` makes the k workers wait for each other (between the phases of a step).
public final class WorkerPool: @unchecked Sendable {
    public let threads: Int
    /// Workers that can compute at the same time: no more than the threads, nor the cores.
    public let usefulWorkers: Int
    /// Workers of the current (or last) run.
    public private(set) var activeWorkers = 1
    private let shared: Shared

    /// What the threads see. They hold it strongly, so it outlives the pool until they have exited.
    private final class Shared: @unchecked Sendable {
        let gates: [OpaquePointer]
        let finish: OpaquePointer, inner: OpaquePointer
        var job: ((Int) -> Void)?
        var stopping = false
        /// Seconds each worker waited in `barrier`: written by that worker only.
        let barrierSeconds: UnsafeMutableBufferPointer<Double>

        init(threads: Int, spin: Int32, yield: Bool) {
            gates = (0..<threads).map { _ in ck_gate_create(spin, yield ? 1 : 0) }
            finish = ck_barrier_create(Int32(threads), spin, yield ? 1 : 0)
            inner = ck_barrier_create(Int32(threads), spin, yield ? 1 : 0)
            barrierSeconds = .allocate(capacity: threads)
            barrierSeconds.initialize(repeating: 0)
        }

        deinit {
            gates.forEach { ck_gate_destroy($0) }
            ck_barrier_destroy(finish)
            ck_barrier_destroy(inner)
            barrierSeconds.deallocate()
        }

        func loop(_ worker: Int) {
            var passed: UInt32 = 0
            while true {
                ck_gate_wait(gates[worker], &passed)
                if stopping { return }
                job?(worker)
                ck_barrier_wait(finish)
            }
        }
    }

    /// A pool of `threads` workers, or fewer when the system refuses to start more threads (a
    /// process or cgroup limit): the pool then has the threads that started, which changes the speed
    /// but never the result (any worker count computes the same bits). `startThread` starts a thread
    /// running its argument and says whether it did (tests inject failures).
    public init(threads: Int, startThread: (@escaping @Sendable () -> Void) -> Bool = WorkerPool.startDetachedThread) {
        precondition(threads >= 1)
        // With a core per worker, waiting workers spin; oversubscribed, they yield their core to the
        // workers still computing (spinning would take it from them), then sleep.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let shared = threads <= cores ? Shared(threads: threads, spin: 20_000, yield: false)
            : Shared(threads: threads, spin: 200, yield: true)
        var started = 1
        while started < threads, startThread({ [worker = started] in shared.loop(worker) }) { started += 1 }
        self.shared = shared
        self.threads = started
        usefulWorkers = min(started, cores)
    }

    /// Starts a detached thread with an 8 MiB stack running `body`; false when pthread_create fails.
    public static func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
        final class Body { let run: () -> Void; init(_ run: @escaping () -> Void) { self.run = run } }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 8 << 20)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        if status != 0 { Unmanaged<Body>.fromOpaque(context).release() }
        return status == 0
    }

    deinit {
        shared.stopping = true
        for worker in 1..<threads { ck_gate_open(shared.gates[worker]) }
    }

    /// Runs `body(worker)` on workers 0..<workers (at most `threads`) and waits for all of them.
    public func run(workers: Int, _ body: @escaping (Int) -> Void) {
        let k = max(1, min(workers, threads))
        activeWorkers = k
        guard k > 1 else { body(0); return }
        ck_barrier_set_parties(shared.finish, Int32(k))
        ck_barrier_set_parties(shared.inner, Int32(k))
        shared.job = body
        for worker in 1..<k { ck_gate_open(shared.gates[worker]) }
        body(0)
        ck_barrier_wait(shared.finish)
        shared.job = nil
    }

    /// Runs `body(worker)` on every worker that can compute at once (`usefulWorkers`).
    public func run(_ body: @escaping (Int) -> Void) {
        run(workers: usefulWorkers, body)
    }

    /// Inside `run`: waits until every worker of the run has reached this point.
    public func barrier(_ worker: Int) {
        guard activeWorkers > 1 else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        ck_barrier_wait(shared.inner)
        shared.barrierSeconds[worker] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    /// Total seconds spent waiting at inner barriers, summed over workers.
    public var barrierSeconds: Double { shared.barrierSeconds.reduce(0, +) }

    /// The contiguous part of 0..<count that `worker` handles in the current run (shards, rows or
    /// parameter chunks).
    public func range(of count: Int, for worker: Int) -> Range<Int> {
        (count * worker / activeWorkers)..<(count * (worker + 1) / activeWorkers)
    }
}
