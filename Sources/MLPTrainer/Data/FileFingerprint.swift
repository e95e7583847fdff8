import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What identifies a data file's content cheaply: its absolute path, size, modification time (ns)
/// and a hash of its bytes - all of them up to `fullHashLimit`, else `samples` evenly spaced blocks
/// (the first and the last included). `--cache` and `--resume` compare it to notice a changed file,
/// also one rewritten with its old size and mtime (README, "What the trainer guarantees").
public struct FileFingerprint: Codable, Equatable, Sendable {
    public var path: String
    public var size: Int
    public var mtimeNanoseconds: Int
    public var hash: String

    static let fullHashLimit = 8 << 20
    static let samples = 32
    static let blockSize = 64 << 10

    enum CodingKeys: String, CodingKey {
        case path, size, hash
        case mtimeNanoseconds = "mtime_ns"
    }

    /// Fingerprints a regular file; anything else (a directory, a pipe, a device) is an error.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw DataError(errno == ENOENT ? "\(path): no such file" : "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DataError("\(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw DataError("\(path): not a regular file") }
        self.path = Self.absolute(path)
        size = Int(st.st_size)
        mtimeNanoseconds = Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
        hash = try Self.sampledHash(fd: fd, size: size, path: path)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// How `other` (the file now) differs from this one (as recorded), or nil when it does not.
    public func change(to other: FileFingerprint) -> String? {
        if other.size != size { return "its size changed from \(size) to \(other.size) bytes" }
        if other.hash != hash { return "its content changed" }
        if other.mtimeNanoseconds != mtimeNanoseconds { return "it was modified" }
        return nil
    }

    /// FNV-1a over 64-bit words of the sampled blocks (a zero-padded tail word), hex.
    private static func sampledHash(fd: Int32, size: Int, path: String) throws -> String {
        let blocks = size <= fullHashLimit ? [(0, size)]
            : (0..<samples).map { i in ((size - blockSize) / (samples - 1) * i, blockSize) }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var buffer = [UInt8](repeating: 0, count: max(1, blocks.map(\.1).max() ?? 1) + 8)
        for (offset, length) in blocks {
            var done = 0
            while done < length {
                let r = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset + done)) }
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else { throw DataError("\(path): cannot read (\(r < 0 ? String(cString: strerror(errno)) : "shorter than its size"))") }
                done += r
            }
            for i in length..<(length + 8) { buffer[i] = 0 }
            buffer.withUnsafeBytes { bytes in
                for w in stride(from: 0, to: length, by: 8) {
                    h = (h ^ bytes.loadUnaligned(fromByteOffset: w, as: UInt64.self)) &* 0x100_0000_01b3
                }
            }
        }
        return String(h, radix: 16)
    }
}
