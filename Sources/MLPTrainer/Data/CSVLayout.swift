import CKernels
import Foundation

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
        let text = CSVText(path: path, data: data, size: size, delimiter: options.delimiter)
        guard let first = text.nonBlankLine(from: text.afterByteOrderMark) else {
            throw DataError("\(path): no data rows")
        }
        // Old Mac line ends (a carriage return alone) would make the whole file one line.
        if let cr = memchr(data + first.begin, 13, first.end - first.begin), cr + 1 < UnsafeMutableRawPointer(mutating: data + first.end) {
            throw DataError("\(path):\(ck_csv_line_number(data, Int64(first.begin))): a carriage return inside the line "
                            + "(lines ending with \\r alone?); lines must end with \\n or \\r\\n")
        }
        let firstFields = try text.fields(first)
        let header: [String]? = Self.hasHeader(firstFields: firstFields, options: options) ? firstFields : nil
        guard let firstData = text.nonBlankLine(from: header != nil ? first.next : first.begin) else {
            throw DataError("\(path): no data rows")
        }
        let dataFields = header != nil ? try text.fields(firstData, names: header) : firstFields
        let total = max(dataFields.count, header?.count ?? 0)
        var used = Self.usedColumns(dataFields: dataFields, header: header, total: total)
        if header == nil, used < total {
            used = text.endOfMostlyFilled(used..<total, from: firstData.begin, sampleRows: Self.paddingSampleRows)
        }
        guard used >= (options.noTarget ? 1 : 2) else {
            throw DataError("\(path): need at least two columns (features and a target), found \(used)")
        }
        let target = try Self.targetColumn(options: options, header: header, used: used, path: path)
        let featureColumns = (0..<used).filter { $0 != target }
        (self.header, self.firstData, self.total, self.used, self.target) = (header, firstData, total, used, target)
        self.featureColumns = featureColumns
        featureNames = featureColumns.indices.map { k in
            let c = featureColumns[k]
            guard let header else { return "x\(k + 1)" }
            return c < header.count && !header[c].isEmpty ? header[c] : "x\(c + 1)"
        }
        if header != nil { try requireDistinctNames(path: path, headerLine: ck_csv_line_number(data, Int64(first.begin))) }
    }

    /// Columns are found by name (--target, --features, predict's check of a model's columns), so
    /// two columns with one name would be ambiguous: an error naming both.
    private func requireDistinctNames(path: String, headerLine: Int64) throws {
        var seen: [String: Int] = [:]
        for column in 0..<used {
            let name = columnName(column)
            if let earlier = seen[name] {
                throw DataError("\(path):\(headerLine): columns \(earlier + 1) and \(column + 1) are both named '\(name)'; give each column its own name")
            }
            seen[name] = column
        }
    }

    /// Whether the first line is a header: as forced, or when the target is given by name, or when a
    /// used field other than the target is not a number (trailing empty fields do not count).
    private static func hasHeader(firstFields: [String], options: CSVOptions) -> Bool {
        let targetIndexText = options.target.flatMap { Int($0) }
        if let forced = options.hasHeader { return forced }
        if options.target != nil && targetIndexText == nil { return true }  // a target given by name needs a header
        let trailingEmpty = firstFields.reversed().prefix { $0.isEmpty }.count
        let used = firstFields.count - trailingEmpty
        let t = options.noTarget ? -1 : targetIndexText ?? (used - 1)
        return firstFields.enumerated().contains { i, f in i < used && i != t && !f.isEmpty && !isNumber(f) }
    }

    /// Without a header, the first data lines that tell a trailing blank value from padding.
    static let paddingSampleRows = 1000

    /// `total` without the trailing columns that are empty on the first data row and have no name.
    /// Without a header every column is unnamed, and a blank last value looks like padding on one
    /// row: `init` then keeps the columns most of the first rows fill (`CSVText.endOfMostlyFilled`).
    private static func usedColumns(dataFields: [String], header: [String]?, total: Int) -> Int {
        var used = total
        while used > 0, used > dataFields.count || dataFields[used - 1].isEmpty,
              used > (header?.count ?? 0) || header![used - 1].isEmpty {
            used -= 1
        }
        return used
    }

    /// The target column: none, the one named or numbered by `--target`, or the last used one.
    private static func targetColumn(options: CSVOptions, header: [String]?, used: Int, path: String) throws -> Int {
        if options.noTarget { return -1 }
        guard let name = options.target else { return used - 1 }
        if let header, let i = header.prefix(used).firstIndex(of: name) { return i }
        if let i = Int(name), i >= 0, i < used { return i }
        if let header {
            throw DataError("\(path): unknown target column '\(name)' (columns: \(header.prefix(used).joined(separator: ", ")))")
        }
        throw DataError("\(path): unknown target column '\(name)' (no header: give a 0-based index below \(used))")
    }

    /// The name of a 0-based file column, for messages.
    func columnName(_ column: Int) -> String {
        if column == target { return header.map { column < $0.count ? $0[column] : "target" } ?? "target" }
        if let k = featureColumns.firstIndex(of: column) { return featureNames[k] }
        return "\(column + 1)"
    }

    /// The header's name of the target column (or its feature-style name without a header).
    var targetName: String? { target < 0 ? nil : columnName(target) }

    /// A file's target column (0-based) and name, from its first lines: for messages about a label.
    static func target(path: String, options: CSVOptions) throws -> (column: Int, name: String) {
        let (data, size) = try mapCSV(path)
        defer { ck_csv_unmap(data, size) }
        let layout = try CSVLayout(path: path, data: data, size: Int(size), options: options)
        return (layout.target, layout.targetName ?? "")
    }

    /// Whether a column has an empty name in the header.
    func isUnnamed(_ column: Int) -> Bool {
        guard let header else { return false }
        return column >= header.count || header[column].isEmpty
    }
}

/// A mapped CSV file's text, for reading its first lines.
private struct CSVText {
    let path: String
    let data: UnsafePointer<CChar>
    let size: Int
    let delimiter: UInt8

    /// Where the text starts: after a UTF-8 byte order mark, if any.
    var afterByteOrderMark: Int {
        size >= 3 && UInt8(bitPattern: data[0]) == 0xEF && UInt8(bitPattern: data[1]) == 0xBB
            && UInt8(bitPattern: data[2]) == 0xBF ? 3 : 0
    }

    /// The first non-blank line at or after `start`.
    func nonBlankLine(from start: Int) -> CSVLayout.Line? {
        var p = start
        while p < size {
            let (e, n) = lineBounds(data, size, p)
            if !isBlankLine(data, p, e) { return (p, e, n) }
            p = n
        }
        return nil
    }

    /// One past the last of `columns` that has a value on most of the first `sampleRows` non-blank
    /// lines from `start` (`columns.lowerBound` when none has): a column of values with blanks, not
    /// padding (lines ending with ",,,", where a stray value may sit in one line). A malformed line
    /// ends the sample; the parser reports it.
    func endOfMostlyFilled(_ columns: Range<Int>, from start: Int, sampleRows: Int) -> Int {
        var filled = [Int](repeating: 0, count: columns.count), rows = 0, next = start
        while rows < sampleRows, let line = nonBlankLine(from: next),
              case .success(let fields) = splitFields(data, line.begin, line.end, delimiter) {
            for c in columns where c < fields.count && !fields[c].isEmpty { filled[c - columns.lowerBound] += 1 }
            (rows, next) = (rows + 1, line.next)
        }
        let last = columns.last { 2 * filled[$0 - columns.lowerBound] > rows }
        return last.map { $0 + 1 } ?? columns.lowerBound
    }

    /// The line's fields, unquoted; errors name the columns by `names` (the header's).
    func fields(_ line: CSVLayout.Line, names: [String]? = nil) throws -> [String] {
        try splitFields(data, line.begin, line.end, delimiter).mapError {
            $0.error(path: path, line: ck_csv_line_number(data, Int64(line.begin)), names: names)
        }.get()
    }
}
