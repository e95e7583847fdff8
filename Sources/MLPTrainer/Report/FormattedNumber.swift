import Foundation

/// `printf`-style text of one number (`%.9g`, `%.2f`) through C's vsnprintf: the text of
/// String(format:) at a fraction of its cost, which dominated writing the curves and metrics of a
/// long run (README.md, "What the trainer guarantees": outputs within 2 s of SIGTERM).
func formatted(_ format: String, _ value: Double) -> String {
    let capacity = 48
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
        let length = format.withCString { f in withVaList([value]) { vsnprintf(buffer.baseAddress!, capacity, f, $0) } }
        guard length >= 0 && length < capacity else { return String(format: format, value) }
        return String(cString: buffer.baseAddress!)
    }
}
