import Foundation

/// One process at a time in a run directory (README, "What the trainer guarantees"): `train` holds
/// an advisory lock (flock) on `DIR/.lock` for the whole run, so a second `train --resume DIR`, or a
/// `train --out DIR` racing another, stops with an error naming the holder's PID instead of
/// interleaving its checkpoints and outputs with the first. The kernel drops the lock when the
/// process ends, however it ends, so a stale lock file is harmless.
public final class RunDirectoryLock {
    public static let fileName = ".lock"
    private let descriptor: Int32

    /// Locks `directory` (which must exist) or throws naming the process that holds it.
    public init(_ directory: String) throws {
        let path = directory + "/" + Self.fileName
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ArtifactError("\(path): cannot open the run's lock file (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.holder(descriptor)
            close(descriptor)
            throw ArtifactError("\(directory): in use by another train process\(holder.map { " (PID \($0))" } ?? ""); "
                                + "wait for it to end or choose another directory")
        }
        let pid = Data("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(descriptor) }

    /// The PID the holder wrote into the lock file, if it has written it yet.
    private static func holder(_ descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
