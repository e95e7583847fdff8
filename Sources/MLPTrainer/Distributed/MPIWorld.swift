import CMPI
import Foundation

/// This process among the processes of an MPI job (ARCHITECTURE.md, "Several processes: MPI"): Open
/// MPI opened at run time, byte-moving collectives over all processes, and the end of the whole job on
/// a failure. Only the main thread calls it (MPI is initialised funneled).
public final class MPIWorld: @unchecked Sendable {
    public let rank: Int
    public let size: Int

    /// Opens Open MPI and initialises it; throws when it is not installed.
    public init() throws {
        var rank: Int32 = 0, size: Int32 = 0
        var error = [CChar](repeating: 0, count: 512)
        guard cmpi_init(&rank, &size, &error, error.count) == 0 else {
            throw ConfigError(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.rank = Int(rank)
        self.size = Int(size)
        // A transport MPI_Init loaded may have put its own handlers over the process's: UCX (pml and
        // osc ucx) takes SIGBUS, whose handler here names a data file truncated while mapped, and
        // SIGHUP, which then no longer ends the process. Open MPI's own handlers leave installed ones be.
        AtomicFile.removeTemporariesOnSignals()
    }

    /// The processes an MPI launcher (mpirun, srun) started this one among, from its environment
    /// (Open MPI's, or PMI's as MPICH and Slurm set it); 1 outside one.
    public static var launchedProcesses: Int {
        let environment = ProcessInfo.processInfo.environment
        return sizeVariables.lazy.compactMap { environment[$0].flatMap(Int.init) }.first ?? 1
    }

    /// Whether an MPI launcher (mpirun, srun) started this process, even as a job of one.
    public static var startedByLauncher: Bool {
        let environment = ProcessInfo.processInfo.environment
        return sizeVariables.contains { environment[$0] != nil }
    }

    /// Where Open MPI's and PMI launchers (srun) put the job's process count.
    private static let sizeVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]

    /// This process's rank as its launcher set it (0 outside one), known before MPI is initialised.
    public static var launchedRank: Int {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_RANK", "PMI_RANK"].lazy.compactMap { environment[$0].flatMap(Int.init) }.first ?? 0
    }

    /// Processes of this job on this host (Open MPI's local size; 1 when unknown).
    public static var processesOnThisHost: Int {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    }

    /// Copies `bytes` of process `root` to every process.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        cmpi_bcast(bytes.baseAddress, count(bytes.count), Int32(root))
    }

    /// Process p has filled bytes[parts[p]]; on return every process holds every part.
    func allGather(_ bytes: UnsafeMutableRawBufferPointer, parts: [Range<Int>]) {
        let counts = parts.map { count($0.count) }, displacements = parts.map { count($0.lowerBound) }
        cmpi_allgatherv(bytes.baseAddress, counts, displacements)
    }

    /// Sends send[sendParts[q]] to every process q and receives process p's part for this one into
    /// receive[receiveParts[p]].
    func allToAll(_ send: UnsafeRawBufferPointer, _ sendParts: [Range<Int>],
                  _ receive: UnsafeMutableRawBufferPointer, _ receiveParts: [Range<Int>]) {
        cmpi_alltoallv(send.baseAddress, sendParts.map { count($0.count) }, sendParts.map { count($0.lowerBound) },
                       receive.baseAddress, receiveParts.map { count($0.count) }, receiveParts.map { count($0.lowerBound) })
    }

    /// Ends the whole job with one line on stderr and status 1. Rank 0 reports at once; another rank
    /// first gives rank 0 time to report the same failure (most failures, such as a bad file, happen
    /// on every rank alike), so the message appears once.
    public func fail(_ message: String) -> Never {
        // Process 0's MPI_Abort ends the others while they wait here; only an error of this process
        // alone outlives the wait. 5 s, not 1: under ThreadSanitizer on a loaded machine process 0
        // reached the same error more than a second later, and both reported it.
        if rank != 0 { Thread.sleep(forTimeInterval: 5) }
        let origin = rank == 0 ? "" : " (process \(rank) of \(size))"
        FileHandle.standardError.write(Data("train: error\(origin): \(message)\n".utf8))
        cmpi_abort(1)
        exit(1)
    }

    /// MPI_Finalize: every process calls it once, at the end.
    public func finish() { cmpi_finalize() }

    /// MPI counts bytes in 32-bit integers.
    private func count(_ bytes: Int) -> Int32 {
        guard let count = Int32(exactly: bytes) else { fail("an exchange of \(bytes) bytes exceeds MPI's 2 GiB limit per call") }
        return count
    }
}
