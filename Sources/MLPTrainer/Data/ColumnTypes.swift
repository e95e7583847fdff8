/// Which columns are features and of which kind (README, "String columns and blanks"): a column is
/// numeric when every non-missing value in the training file is a number, else categorical, unless
/// `categorical` or `numeric` names it. Columns are named as `--target` names them: by header name
/// or 0-based index.
public struct ColumnOptions: Sendable, Equatable, Codable {
    public static let defaultNAValues = ["NA", "N/A", "NaN", "nan", "null", "?"]

    public var categorical: [String] = []
    public var numeric: [String] = []
    /// Only these columns are features (nil: every column but the target).
    public var features: [String]?
    public var ignore: [String] = []
    /// Field texts that are missing values, besides the empty field.
    public var naValues = ColumnOptions.defaultNAValues
    /// At most this many one-hot inputs per categorical column; rarer categories share the last.
    public var maxCategories = 64

    public init() {}

    /// Options the all-numeric parser cannot honour.
    var needTable: Bool {
        !categorical.isEmpty || !numeric.isEmpty || features != nil || !ignore.isEmpty
            || naValues != Self.defaultNAValues
    }

    /// Splits a comma-separated flag value.
    public static func list(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }
}

/// A categorical column may have at most this many distinct values.
let maximumCategories = 1 << 20

extension CSVLayout {
    /// The 0-based file column of a `--features`-style reference (a header name or an index).
    func column(named reference: String, flag: String, path: String) throws -> Int {
        if let header, let i = header.prefix(used).firstIndex(of: reference) { return i }
        if let i = featureColumns.indices.first(where: { featureNames[$0] == reference }) { return featureColumns[i] }
        if let i = Int(reference), i >= 0, i < used { return i }
        let names = (0..<used).map(columnName).joined(separator: ", ")
        throw DataError("\(path): unknown column '\(reference)' in \(flag) (columns: \(names))")
    }

    /// The feature columns `options` selects, in file order.
    func selectedColumns(_ options: ColumnOptions, path: String) throws -> [Int] {
        let ignored = Set(try options.ignore.map { try column(named: $0, flag: "--ignore-columns", path: path) })
        var chosen = featureColumns
        if let features = options.features {
            let wanted = Set(try features.map { try column(named: $0, flag: "--features", path: path) })
            if wanted.contains(target) { throw DataError("\(path): --features names the target column '\(columnName(target))'") }
            chosen = featureColumns.filter(wanted.contains)
        }
        chosen.removeAll(where: ignored.contains)
        if chosen.isEmpty { throw DataError("\(path): no feature columns left after --features / --ignore-columns") }
        return chosen
    }

    /// The kind of each of `columns`: forced by `options`, else numeric when `nonNumbers` (per
    /// column, non-missing values that are not numbers) is 0.
    func kinds(of columns: [Int], nonNumbers: [Int], options: ColumnOptions, path: String) throws -> [ColumnEncoding.Kind] {
        let categorical = Set(try options.categorical.map { try column(named: $0, flag: "--categorical", path: path) })
        let numeric = Set(try options.numeric.map { try column(named: $0, flag: "--numeric", path: path) })
        if let both = categorical.intersection(numeric).first {
            throw DataError("\(path): column '\(columnName(both))' is both --categorical and --numeric")
        }
        return zip(columns, nonNumbers).map { column, bad in
            categorical.contains(column) || (bad > 0 && !numeric.contains(column)) ? .categorical : .numeric
        }
    }

    /// Notes for the categorical `columns` (with their `values`) that are so only because a few of
    /// their values are not numbers, and not by --categorical. `present`: a column's non-missing
    /// values; `lineNumber`: a byte offset's line.
    func mostlyNumbersNotes(_ columns: [Int], values: [CategoryCounts], present: (Int) -> Int, options: ColumnOptions,
                            path: String, lineNumber: (Int) -> Int64) throws -> [String] {
        let forced = Set(try options.categorical.map { try column(named: $0, flag: "--categorical", path: path) })
        return zip(columns, values).compactMap { column, values in
            forced.contains(column) ? nil : mostlyNumbersNote(column: column, present: present(column), values: values, lineNumber: lineNumber)
        }
    }

    /// A note for a column read as categorical only because a few of its values are not numbers (at
    /// most 1 in 20 of its present values: a stray text, or a missing-value marker not in
    /// --na-values), naming the first such value and its line.
    private func mostlyNumbersNote(column: Int, present: Int, values: CategoryCounts, lineNumber: (Int) -> Int64) -> String? {
        let texts = values.values.indices.filter { !values.values[$0].isEmpty && !isNumber(values.values[$0]) }
        let nonNumbers = texts.reduce(0) { $0 + values.counts[$1] }
        guard let first = texts.first, nonNumbers > 0, nonNumbers * 20 <= present else { return nil }
        let text = values.values[first], shown = text.count > 40 ? String(text.prefix(40)) + "..." : text
        let name = columnName(column)
        return "note: column '\(name)' is read as categorical because \(nonNumbers) of its \(present) values "
            + "\(nonNumbers == 1 ? "is" : "are") not a number (the first on line \(lineNumber(values.firstLineOffsets[first])): "
            + "\"\(shown)\"); if it is numeric, name such markers of a missing value with --na-values, or give --numeric \(name)"
    }
}
