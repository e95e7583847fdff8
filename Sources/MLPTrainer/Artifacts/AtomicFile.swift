import Foundation

/// Writes that never leave a half-written file: data goes to a temporary file in the same
/// directory, which is then renamed over the destination (rename is atomic within a file system).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
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
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
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
}

/// A problem reading or writing an artifact (checkpoint, output directory). One line for the user.
public struct ArtifactError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
