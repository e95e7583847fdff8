import CKernels
import Foundation

/// Writes that never leave a half-written file: data goes to a temporary file in the same
/// directory, which is then renamed over the destination (rename is atomic within a file system).
/// A temporary file is removed when the process dies of a signal (`ck_cleanup_register`), and one
/// left by a killed process (SIGKILL) is removed by the next write to the same path.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let temporary = temporaryPath(for: path)
        let slot = ck_cleanup_register(temporary)
        defer { ck_cleanup_unregister(slot) }
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 {
                throw ArtifactError("\(path): cannot write (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if error is ArtifactError { throw error }
            throw ArtifactError("\(path): cannot write (\(error.localizedDescription))")
        }
    }

    /// Streams into the temporary file through `body`, then renames it into place; on an error the
    /// temporary file is removed and the destination left as it was.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        let temporary = temporaryPath(for: path)
        let slot = ck_cleanup_register(temporary)
        defer { ck_cleanup_unregister(slot) }
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw ArtifactError("\(path): cannot write (\(String(cString: strerror(errno))))")
        }
        do {
            try body(handle)
            try handle.close()
            if rename(temporary, path) != 0 {
                throw ArtifactError("\(path): cannot write (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Installs the signal handlers that remove registered temporary files (`ck_cleanup_install`) on
    /// SIGBUS, SIGINT, SIGTERM and SIGHUP (train's run later takes SIGINT/SIGTERM as a stop request).
    public static func removeTemporariesOnSignals() {
        ck_cleanup_install()
    }

    /// `path.tmp-PID`, after removing the temporaries of `path` whose process is gone.
    public static func temporaryPath(for path: String) -> String {
        removeStaleTemporaries(of: path)
        return path + ".tmp-\(getpid())"
    }

    /// Removes `NAME.tmp-PID[-...]` next to `path` when no process PID exists.
    static func removeStaleTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path, prefix = url.lastPathComponent + ".tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isNumber }), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }
}

/// A problem reading or writing an artifact (checkpoint, output directory). One line for the user.
public struct ArtifactError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
