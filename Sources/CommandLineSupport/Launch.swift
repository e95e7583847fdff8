import ArgumentParser
import Foundation
import MLPTrainer

/// `--distributed`: how the processes of one training job talk (README, "Several processes and hosts").
public enum DistributedBackend: String, CaseIterable, ExpressibleByArgument { case mpi }

/// The processes a run trains with (train, bench scaling): this one alone, or every process of an MPI
/// job. Process 0 prints and writes the outputs; the others print nothing but errors.
public struct Launch {
    public let collective: Collective
    private let world: MPIWorld?

    /// Joins the MPI job for `--distributed mpi`. Refuses to train as one of several processes an MPI
    /// launcher started without it (they would be independent copies writing the same outputs); only
    /// the first of them says so.
    public static func start(_ backend: DistributedBackend?) throws -> Launch {
        guard backend == .mpi else {
            let processes = MPIWorld.launchedProcesses
            if processes > 1 {
                if MPIWorld.launchedRank != 0 { throw ExitCode(1) }
                throw ConfigError("started by mpirun as one of \(processes) processes without --distributed mpi: add "
                                  + "--distributed mpi to train them as one job (or run train without mpirun)")
            }
            return Launch(collective: LocalCollective(), world: nil)
        }
        let world = try MPIWorld()
        if world.rank != 0 {
            let null = open("/dev/null", O_WRONLY)
            dup2(null, STDOUT_FILENO)
            close(null)
        }
        return Launch(collective: MPICollective(world: world), world: world)
    }

    public var writesOutputs: Bool { collective.rank == 0 }

    /// Threads per process without --threads: the cores it may run on, shared with the job's other
    /// processes on this host.
    public static var defaultThreads: Int {
        let info = ProcessInfo.processInfo
        return max(1, min(info.activeProcessorCount, info.processorCount / MPIWorld.processesOnThisHost))
    }

    /// In an MPI job, reports the error's `message` once and ends every process (MPI_Abort); alone,
    /// returns and the caller reports it.
    public func endJob(after message: String) {
        world?.fail(message.split(separator: "\n").first.map(String.init) ?? message)
    }

    /// The last call of a run that ends normally or is interrupted.
    public func finish() { world?.finish() }
}
