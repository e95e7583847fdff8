import CKernels
import Foundation

/// The all-numeric parser met a value only `TableLoader` handles.
struct NeedsTableLoader: Error {
    static func statuses(dropInvalidRows: Bool) -> Set<Int32> {
        let values: [ck_csv_status] = [CK_CSV_ERR_NUMBER, CK_CSV_ERR_MISSING, CK_CSV_ERR_TRAILING]
            + (dropInvalidRows ? [CK_CSV_ERR_NONFINITE, CK_CSV_ERR_RANGE] : [])
        return Set(values.map { Int32($0.rawValue) })
    }
}

/// A training file through `TableLoader`: the kinds of its columns, their categories, the missing
/// values' indicators and notes for the user (columns dropped, mostly missing, stray values). The
/// fills are left for the training split (`ColumnEncoding.fitFills`); until then missing numeric
/// values are NaN.
func loadTable(path: String, data: UnsafePointer<CChar>, size: Int, options: CSVOptions,
               layout: CSVLayout) throws -> (ParsedCSV, ColumnEncoding, notes: [String]) {
    let loader = TableLoader(path: path, data: data, size: size, options: options, layout: layout,
                             naValues: options.columns.naValues)
    var columns = try layout.selectedColumns(options.columns, path: path)
    let firstRow = (try? splitFields(data, layout.firstData.begin, layout.firstData.end, options.delimiter).get()) ?? []
    let likelyCategorical = columns.indices.filter { k in
        columns[k] < firstRow.count && !firstRow[columns[k]].isEmpty && !isNumber(firstRow[columns[k]])
            && !options.columns.naValues.contains(firstRow[columns[k]])
    }
    let survey = try loader.survey(columns, counting: likelyCategorical.map { columns[$0] }, keepingRows: true)
    var kinds = try layout.kinds(of: columns, nonNumbers: columns.map { survey.nonNumbers[$0] }, options: options.columns,
                                 path: path)
    var notes: [String] = []
    if survey.strays > 0 {
        notes.append("note: \(survey.strays) value\(survey.strays == 1 ? "" : "s") in unnamed columns after column \(layout.used) "
            + "(first on line \(ck_csv_line_number(data, Int64(survey.firstStray)))) ignored")
    }
    var keep: [Bool] = []
    for c in columns {
        let missing = survey.missing[c]
        let name = layout.isUnnamed(c) ? "column \(c + 1) (no name)" : "column '\(layout.columnName(c))'"
        keep.append(missing < survey.rows)
        if missing == survey.rows {
            notes.append("note: \(name) is empty on every row; dropped")
        } else if 2 * missing > survey.rows {
            notes.append("note: \(name) is missing on \(missing) of \(survey.rows) rows")
        }
    }
    kinds = zip(kinds, keep).filter(\.1).map(\.0)
    columns = zip(columns, keep).filter(\.1).map(\.0)
    if columns.isEmpty { throw DataError("\(path): no feature column has a value") }

    let categorical = columns.indices.filter { kinds[$0] == .categorical }
    let uncounted = categorical.map { columns[$0] }.filter { survey.categories[$0] == nil }
    let more = uncounted.isEmpty ? [:] : try loader.survey([], counting: uncounted).categories
    let counts = categorical.map { survey.categories[columns[$0]] ?? more[columns[$0]]! }
    var encoded = columns.indices.map { k in
        ColumnEncoding.Column(numeric: layout.columnName(columns[k]), indicator: survey.missing[columns[k]] > 0)
    }
    notes += try layout.mostlyNumbersNotes(categorical.map { columns[$0] }, values: counts, present: { survey.rows - survey.missing[$0] },
                                           options: options.columns, path: path, lineNumber: { ck_csv_line_number(data, Int64($0)) })
    for (k, count) in zip(categorical, counts) {
        let name = layout.columnName(columns[k])
        if count.overflow {
            throw DataError("\(path): column '\(name)' has more than \(maximumCategories) distinct values; "
                + "give it fewer with --max-categories, or leave it out with --ignore-columns \(name)")
        }
        let slots = count.slots(maxCategories: options.columns.maxCategories)
        encoded[k] = ColumnEncoding.Column(categorical: name, categories: slots.categories, other: slots.other)
    }
    let encoding = ColumnEncoding(columns: encoded, target: layout.targetName, naValues: options.columns.naValues)
    let spellings = Dictionary(uniqueKeysWithValues: zip(categorical, counts.map(\.spellings)))
    let (parsed, _) = try loader.write(encoding, columns: columns, featureNames: encoding.inputNames, spellings: spellings,
                                       chunkRows: survey.chunkRows, kept: survey.kept)
    return (parsed, encoding, notes)
}

/// A file for a model with a `ColumnEncoding`: its columns found by name (in any order; others are
/// ignored), encoded as in training. Returns the parse and the values outside each column's categories.
func loadEncodedTable(path: String, data: UnsafePointer<CChar>, size: Int, options: CSVOptions,
                      encoding: ColumnEncoding, window: Range<Int>? = nil,
                      missing: MissingValuePolicy = .fill) throws -> (ParsedCSV, [Int]) {
    let layout = try CSVLayout(path: path, data: data, size: size, options: options)
    let columns = try encoding.columns.map { column -> Int in
        do { return try layout.column(named: column.name, flag: "", path: path) } catch {
            throw DataError("\(path): no column '\(column.name)', which the model needs")
        }
    }
    let loader = TableLoader(path: path, data: data, size: size, options: options, layout: layout,
                             naValues: encoding.naValues, window: window)
    return try loader.write(encoding, columns: columns, featureNames: encoding.inputNames, missing: missing)
}

/// A window of a file for a model without an encoding that has missing values: its feature columns,
/// by position, as numbers with `medians` for the missing ones (or refused, as `missing` says).
/// Returns the parse and the missing values per feature.
func loadFilledWindow(path: String, data: UnsafePointer<CChar>, size: Int, options: CSVOptions, medians: [Float],
                      window: Range<Int>, missing: MissingValuePolicy) throws -> (ParsedCSV, [Int]) {
    let layout = try CSVLayout(path: path, data: data, size: size, options: options)
    guard layout.featureColumns.count == medians.count else {
        throw DataError("\(path): has \(layout.featureColumns.count) feature columns; the model has \(medians.count)")
    }
    let encoding = ColumnEncoding(numeric: layout.featureNames, medians: medians, naValues: options.columns.naValues)
    let loader = TableLoader(path: path, data: data, size: size, options: options, layout: layout,
                             naValues: encoding.naValues, window: window)
    return try loader.write(encoding, columns: layout.featureColumns, featureNames: layout.featureNames, missing: missing)
}

/// The header of a CSV file (nil when it has none), read as `predict` reads a file without a label.
public func csvHeader(path: String, options: CSVOptions) throws -> [String]? {
    var options = options
    options.noTarget = true
    options.target = nil
    let (data, size) = try mapCSV(path)
    defer { ck_csv_unmap(data, size) }
    return try CSVLayout(path: path, data: data, size: Int(size), options: options).header
}
