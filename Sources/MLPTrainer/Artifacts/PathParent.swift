/// The directory part of a path, as NSString's deletingLastPathComponent gives it ("" for a bare
/// name, "/" for a name in the root), without calling it: swift-corelibs-foundation 6.3 traps
/// (SIGILL) on a one-character path such as "x" or "x/", which killed `train --out x`,
/// `predict --output y` and `datagen --out x`.
public enum PathParent {
    public static func of(_ path: String) -> String {
        let name = trimmingSlashes(Substring(path))
        guard let slash = name.lastIndex(of: "/") else { return "" }
        return String(trimmingSlashes(name[...slash]))
    }

    /// Without trailing slashes, but "/" itself.
    private static func trimmingSlashes(_ path: Substring) -> Substring {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        return path
    }
}
