import CKernels
import MLPTrainer

/// Formats rows of a synthetic problem as CSV text: the features (some left blank), the string
/// columns after them, and the label first or last. One formatter serves every thread; each call
/// writes into the caller's own buffer.
struct RowFormatter: Sendable {
    let problem: SyntheticProblem
    let features: Int
    let categorical: Int
    let cardinality: Int
    let frequency: SyntheticProblem.CategoryFrequency
    let missing: Double
    let labelFirst: Bool
    let higgs: Bool
    let regression: Bool

    /// An upper bound on one line's bytes (a number takes at most 32).
    var maxLineBytes: Int { (features + 1) * 32 + categorical * (String(cardinality).count + 3) + 1 }

    /// Writes `rows` at `start`, which has room for `rows.count * maxLineBytes`; returns the bytes written.
    func format(rows: Range<Int>, into start: UnsafeMutablePointer<CChar>) -> Int {
        let x = UnsafeMutablePointer<Float>.allocate(capacity: features)
        defer { x.deallocate() }
        var p = start
        for r in rows { formatRow(r, features: x, at: &p) }
        return p - start
    }

    private func formatRow(_ r: Int, features x: UnsafeMutablePointer<Float>, at p: inout UnsafeMutablePointer<CChar>) {
        let y = problem.row(r, into: x)
        let columns = features + categorical
        if labelFirst { putLabel(y, row: r, features: x, at: &p); put(byte: 44, at: &p) }
        for j in 0..<columns {
            if !problem.isBlank(row: r, column: j, fraction: missing) {
                if j < features { put(x[j], at: &p) } else { putCategory(row: r, column: j - features, label: y, at: &p) }
            }
            if j < columns - 1 { put(byte: 44, at: &p) }
        }
        if !labelFirst { put(byte: 44, at: &p); putLabel(y, row: r, features: x, at: &p) }
        put(byte: 10, at: &p)
    }

    private func putLabel(_ y: Int32, row r: Int, features x: UnsafeMutablePointer<Float>, at p: inout UnsafeMutablePointer<CChar>) {
        if regression { put(problem.target(r, features: x), at: &p); return }
        // Below Datagen.maxClasses: one or two decimal digits.
        if y >= 10 { put(byte: UInt8(48 + y / 10), at: &p) }
        put(byte: UInt8(48 + y % 10), at: &p)
    }

    private func putCategory(row r: Int, column c: Int, label y: Int32, at p: inout UnsafeMutablePointer<CChar>) {
        for byte in problem.category(row: r, column: c, label: y, cardinality: cardinality, frequency: frequency).utf8 { put(byte: byte, at: &p) }
    }

    private func put(_ v: Float, at p: inout UnsafeMutablePointer<CChar>) {
        p += Int(higgs ? ck_format_e18(v, p) : ck_format_short(v, p))
    }

    private func put(byte: UInt8, at p: inout UnsafeMutablePointer<CChar>) {
        p.pointee = CChar(bitPattern: byte)
        p += 1
    }
}
