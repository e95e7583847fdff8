import Foundation

/// The largest thread count the commands accept: a few times the cores (oversubscription only
/// slows training down; hundreds of threads can exhaust a memory or process limit).
public enum ThreadLimit {
    public static var maximum: Int { min(1024, 8 * max(1, ProcessInfo.processInfo.activeProcessorCount)) }

    public static func check(_ threads: Int, flag: String = "--threads") throws {
        guard threads >= 1, threads <= maximum else {
            throw ConfigError("\(flag) must be in 1...\(maximum) (8 per core), got \(threads)")
        }
    }
}
