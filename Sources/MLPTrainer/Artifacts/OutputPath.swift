import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checks a file a command is about to write, before any work: it must not be one of the command's
/// inputs (by device and inode, so another spelling or a link to an input is caught too), must not be
/// a directory, and must not exist unless overwriting was asked for.
public enum OutputPath {
    public static func check(_ path: String, flag: String, inputs: [String], overwrite: Bool, overwriteFlag: String) throws {
        guard !path.isEmpty else { throw ArtifactError("\(flag) is empty; give a file name") }
        if path.hasSuffix("/") { throw ArtifactError("\(flag) \(path): names a directory; give a file name") }
        guard let target = identity(path) else {
            let parent = PathParent.of(path)
            if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
                throw ArtifactError("\(flag) \(path): directory \(parent) does not exist")
            }
            return
        }
        if target.isDirectory { throw ArtifactError("\(flag) \(path): is a directory; give a file name") }
        for input in inputs where identity(input).map({ $0.device == target.device && $0.inode == target.inode }) ?? false {
            throw ArtifactError("\(flag) \(path): is the input \(input); writing there would destroy it")
        }
        if !overwrite { throw ArtifactError("\(flag) \(path): already exists; pass \(overwriteFlag) to replace it") }
    }

    private struct Identity {
        var device: UInt64
        var inode: UInt64
        var isDirectory: Bool
    }

    private static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), isDirectory: (info.st_mode & S_IFMT) == S_IFDIR)
    }
}
