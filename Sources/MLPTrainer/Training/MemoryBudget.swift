import Foundation

/// Sizes checked before allocating: a request that overflows or exceeds the memory available is one
/// clear error saying how much is needed, not a crash with a backtrace and a half-made --out.
public enum MemoryBudget {
    /// Bytes the system can give (MemAvailable in /proc/meminfo, else the physical memory).
    public static var available: Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kib = Int(line.split(separator: " ")[1]) {
            return kib * 1024
        }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }

    /// Throws unless `bytes` (nil: overflowed) fits in the available memory.
    public static func require(_ bytes: Int?, for what: String) throws {
        let free = available
        guard let bytes, bytes <= free else {
            let needed = bytes.map { String(format: "%.1f GB", Double($0) / 1e9) } ?? "more than 2^63 bytes"
            throw ConfigError("\(what) needs \(needed) of memory; \(String(format: "%.1f GB", Double(free) / 1e9)) are available")
        }
    }

    /// A data set of rows x features floats (and a label per row).
    public static func dataBytes(rows: Int, features: Int) -> Int? {
        ModelValidation.checkedProduct([rows, features + 1, 4])
    }

    /// Training's main allocations: parameters, one gradient per shard, Adam's two moments, and each
    /// shard's activations (about six floats per hidden unit per row: pre-activation, activation,
    /// BatchNorm output and their gradients).
    public static func trainingBytes(_ config: ModelConfig, shards: Int, batchRows: Int) -> Int? {
        guard let parameters = ModelValidation.parameterCount(config),
              let units = ModelValidation.checkedSum(config.sizes),
              let weights = ModelValidation.checkedProduct([parameters, shards + 3, 4]),
              let activations = ModelValidation.checkedProduct([batchRows, units, 6, 4]) else { return nil }
        return ModelValidation.checkedSum([weights, activations])
    }
}
