import CKernels

/// The shape of a CSV file as its first lines give it: the header (detected or forced), the first
/// data line, the column counts, the target column and the feature columns with their names.
struct CSVLayout {
    typealias Line = (begin: Int, end: Int, next: Int)

    var header: [String]?
    var firstData: Line
    /// Fields on the longest of the header and the first data line.
    var total: Int
    /// Columns in use: `total` without the trailing unnamed columns that are empty on the first data
    /// line (lines ending with ",,,").
    var used: Int
    /// The label column, or -1 (`CSVOptions.noTarget`).
    var target: Int
    /// Every used column but the target, in file order.
    var featureColumns: [Int]
    /// Names of `featureColumns`: the header's, or x1...xF (by feature index) without one.
    var featureNames: [String]

    init(path: String, data: UnsafePointer<CChar>, size: Int, options: CSVOptions) throws {
        let delimiter = options.delimiter
        var pos = 0
        if size >= 3, UInt8(bitPattern: data[0]) == 0xEF, UInt8(bitPattern: data[1]) == 0xBB,
           UInt8(bitPattern: data[2]) == 0xBF {
            pos = 3
        }
        // The first non-blank line, and the one after it.
        func nextNonBlank(from start: Int) -> Line? {
            var p = start
            while p < size {
                let (e, n) = lineBounds(data, size, p)
                if !isBlankLine(data, p, e) { return (p, e, n) }
                p = n
            }
            return nil
        }
        guard let first = nextNonBlank(from: pos) else { throw DataError("\(path): no data rows") }
        func fields(_ line: Line) throws -> [String] {
            switch splitFields(data, line.begin, line.end, delimiter) {
            case .success(let f): return f
            case .failure(let bad):
                let n = ck_csv_line_number(data, Int64(line.begin))
                throw DataError("\(path):\(n):\(bad.index + 1): malformed quoted field \(bad.text)")
            }
        }
        let firstFields = try fields(first)
        let targetIndexText = options.target.flatMap { Int($0) }

        // Header detection (trailing empty fields do not count).
        let hasHeader: Bool
        if let forced = options.hasHeader {
            hasHeader = forced
        } else if options.target != nil && targetIndexText == nil {
            hasHeader = true  // a target given by name needs a header
        } else {
            let trailingEmpty = firstFields.reversed().prefix { $0.isEmpty }.count
            let used = firstFields.count - trailingEmpty
            let t = options.noTarget ? -1 : targetIndexText ?? (used - 1)
            hasHeader = firstFields.enumerated().contains { i, f in i < used && i != t && !f.isEmpty && !isNumber(f) }
        }
        let header: [String]? = hasHeader ? firstFields : nil
        let dataStart = hasHeader ? first.next : first.begin
        guard let firstData = nextNonBlank(from: dataStart) else { throw DataError("\(path): no data rows") }
        let dataFields = hasHeader ? try fields(firstData) : firstFields

        // Trailing columns that are empty on the first data row and have no name are dropped.
        let total = max(dataFields.count, header?.count ?? 0)
        var used = total
        while used > 0, used > dataFields.count || dataFields[used - 1].isEmpty,
              used > (header?.count ?? 0) || header![used - 1].isEmpty {
            used -= 1
        }
        guard used >= (options.noTarget ? 1 : 2) else {
            throw DataError("\(path): need at least two columns (features and a target), found \(used)")
        }

        // The target column.
        let target: Int
        if options.noTarget {
            target = -1
        } else if let name = options.target {
            if let header, let i = header.prefix(used).firstIndex(of: name) {
                target = i
            } else if let i = targetIndexText, i >= 0, i < used {
                target = i
            } else if let header {
                throw DataError("\(path): unknown target column '\(name)' (columns: \(header.prefix(used).joined(separator: ", ")))")
            } else {
                throw DataError("\(path): unknown target column '\(name)' (no header: give a 0-based index below \(used))")
            }
        } else {
            target = used - 1
        }
        let featureColumns = (0..<used).filter { $0 != target }
        self.header = header
        self.firstData = firstData
        self.total = total
        self.used = used
        self.target = target
        self.featureColumns = featureColumns
        if let header {
            featureNames = featureColumns.map { $0 < header.count && !header[$0].isEmpty ? header[$0] : "x\($0 + 1)" }
        } else {
            featureNames = featureColumns.indices.map { "x\($0 + 1)" }
        }
    }

    /// The name of a 0-based file column, for messages.
    func columnName(_ column: Int) -> String {
        if column == target { return header.map { column < $0.count ? $0[column] : "target" } ?? "target" }
        if let k = featureColumns.firstIndex(of: column) { return featureNames[k] }
        return "\(column + 1)"
    }

    /// The header's name of the target column (or its feature-style name without a header).
    var targetName: String? { target < 0 ? nil : columnName(target) }

    /// Whether a column has an empty name in the header.
    func isUnnamed(_ column: Int) -> Bool {
        guard let header else { return false }
        return column >= header.count || header[column].isEmpty
    }
}
