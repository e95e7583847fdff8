import CKernels
import Foundation

/// How to read a CSV file (see `loadCSV`).
public struct CSVOptions: Sendable, Codable {
    /// nil: auto-detect (the first non-blank line is a header when one of its fields, other than
    /// the target's, is not a number); true/false force it (`--no-header` is false).
    public var hasHeader: Bool?
    /// ',' (default), ';' or '\t'.
    public var delimiter: UInt8
    /// The label column: a header name, or a 0-based column index as text. nil: the last column.
    public var target: String?
    /// Skip rows with a missing or invalid value and count them, instead of failing.
    public var dropInvalidRows: Bool
    /// Accept "inf"/"nan" in features (otherwise they are invalid values).
    public var allowNonFinite: Bool
    /// Parser threads (OpenMP team size).
    public var threads: Int
    /// Use and write a binary cache (NumPy .npy + JSON) of the parsed data.
    public var cache: Bool
    /// Where the cache goes; nil: next to the CSV file.
    public var cacheDirectory: String?
    /// Nominal chunk size in bytes for the parallel parser; 0 picks one. Tests force tiny chunks.
    public var chunkBytes: Int
    /// The file has no label column (new data for `predict`): every column is a feature, the
    /// dataset's labels are 0 and it has no classes.
    public var noTarget = false
    /// Column selection, kinds and missing values (string columns and blanks; see `ColumnOptions`).
    public var columns = ColumnOptions()

    public init(hasHeader: Bool? = nil, delimiter: UInt8 = UInt8(ascii: ","), target: String? = nil,
                dropInvalidRows: Bool = false, allowNonFinite: Bool = false,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount, cache: Bool = false,
                cacheDirectory: String? = nil, chunkBytes: Int = 0) {
        self.hasHeader = hasHeader
        self.delimiter = delimiter
        self.target = target
        self.dropInvalidRows = dropInvalidRows
        self.allowNonFinite = allowNonFinite
        self.threads = max(1, threads)
        self.cache = cache
        self.cacheDirectory = cacheDirectory
        self.chunkBytes = chunkBytes
    }
}

extension CSVOptions {
    /// The byte of a `--delimiter` value: ",", ";", or a tab ("tab", "\\t" or a tab character).
    public static func delimiter(parsing text: String) throws -> UInt8 {
        switch text {
        case ",", ";": return UInt8(ascii: text.unicodeScalars.first!)
        case "tab", "\\t", "\t": return UInt8(ascii: "\t")
        default: throw ConfigError("--delimiter must be ',', ';' or tab, got '\(text)'")
        }
    }
}

/// What a load did (the trainer writes these into summary.json as load_seconds,
/// load_mb_per_second, rows, features, invalid_rows).
public struct LoadReport: Sendable, Equatable {
    /// Wall time of the load (from opening the file to the finished Dataset; writing a cache is not
    /// included).
    public var seconds: Double
    /// Size of the CSV file.
    public var bytes: Int
    /// bytes / seconds / 1e6.
    public var megabytesPerSecond: Double
    public var rows: Int
    public var features: Int
    /// Rows skipped because of a missing or invalid value (dropInvalidRows).
    public var invalidRows: Int
    /// The data came from the binary cache.
    public var fromCache: Bool
    /// Lines for the user about the columns (dropped, mostly missing, stray values ignored).
    public var notes: [String] = []
}

/// A data problem, described in one line: `data.csv:17:3: invalid number "abc" in column 'skewness'`.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Loads a CSV file of features and a class label per row into a Dataset (see `CSVOptions`).
///
/// Format: LF or CRLF lines, an optional UTF-8 BOM, blank lines skipped, fields optionally quoted
/// with '"' ("" inside a quoted field is a quote; quoted fields may not span lines), spaces around
/// fields ignored. Trailing unnamed columns that are empty on the first data row (lines ending with
/// ",,,"; without a header, on most of the first rows too, `CSVLayout`) are dropped; a later value in
/// such a column is ignored with a note. Without a header the features are named
/// x1...xF (the target column is not counted), as in `SyntheticProblem`.
///
/// Labels: with `classLabels` (an evaluation set that must use the training set's classes) each
/// label is mapped to its index there, and an unknown label is an error. Without it the classes are
/// sorted as scikit-learn's LabelEncoder sorts them: numerically when every label is a number
/// (printed canonically: "1.0" and "1" are class "1"), else by code point.
///
/// A file with string columns or missing values, or `options.columns` the all-numeric parser cannot
/// honour, goes through `loadTable` (the dataset then has its `encoding`; missing numeric values are
/// NaN until filled); with `encoding` (a training file's), the file is encoded as that one was.
/// `numericTarget` (regression): a label that is not a number is an error naming its line and column.
public func loadCSV(path: String, options: CSVOptions, classLabels: [String]? = nil,
                    encoding: ColumnEncoding? = nil, numericTarget: Bool = false) throws -> (Dataset, LoadReport) {
    let start = DispatchTime.now().uptimeNanoseconds
    func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    let source = try FileFingerprint(path: path)
    let allNumeric = encoding == nil && !options.columns.needTable
    if options.cache, encoding == nil, let cached = CSVCache.load(source: source, options: options) {
        let dataset = try finishTarget(cached.dataset, classLabels: classLabels, path: path, options: options,
                                       numeric: numericTarget) { cached.firstLines[$0] }
        let s = elapsed()
        return (dataset, LoadReport(seconds: s, bytes: source.size, megabytesPerSecond: Double(source.size) / s / 1e6,
                                    rows: dataset.rows, features: dataset.featureCount,
                                    invalidRows: cached.invalidRows, fromCache: true, notes: cached.notes))
    }

    let (data, size) = try mapCSV(path)
    defer { ck_csv_unmap(data, size) }
    var parsed: ParsedCSV
    var tableEncoding = encoding, notes: [String] = []
    if let encoding {
        parsed = try loadEncodedTable(path: path, data: data, size: Int(size), options: options, encoding: encoding).0
    } else {
        do {
            guard allNumeric else { throw NeedsTableLoader() }
            parsed = try parseCSV(path: path, data: data, size: Int(size), options: options,
                                  fallbackOn: NeedsTableLoader.statuses(dropInvalidRows: options.dropInvalidRows))
        } catch is NeedsTableLoader {
            let layout = try CSVLayout(path: path, data: data, size: Int(size), options: options)
            let table = try loadTable(path: path, data: data, size: Int(size), options: options, layout: layout)
            (parsed, tableEncoding, notes) = (table.0, table.1, table.notes)
        }
    }

    // Classes of this file, sorted; then the caller's classes when given.
    let firstLine: (Int) -> Int = { Int(ck_csv_line_number(data, Int64($0))) }
    var (dataset, ownFirstLines, written) = finishLabels(parsed)
    dataset.encoding = tableEncoding
    if classLabels == nil, !options.noTarget, !numericTarget, dataset.classCount < 2 {
        let only = dataset.classLabels.first.map { "'\($0)'" } ?? "none"
        throw DataError("\(path): only one class (\(only)); need at least two")
    }
    if options.cache && encoding == nil {
        let lines = lineNumbers(data, offsets: ownFirstLines)
        CSVCache.store(dataset: dataset, invalidRows: parsed.invalidRows, firstLines: lines, notes: notes, source: source,
                       options: options)
        dataset = try finishTarget(dataset, classLabels: classLabels, path: path, options: options, numeric: numericTarget,
                                   written: written) { lines[$0] }
    } else {
        dataset = try finishTarget(dataset, classLabels: classLabels, path: path, options: options, numeric: numericTarget,
                                   written: written) {
            firstLine(ownFirstLines[$0])
        }
    }
    ownFirstLines = []
    let s = elapsed()
    return (dataset, LoadReport(seconds: s, bytes: Int(size), megabytesPerSecond: Double(size) / s / 1e6,
                                rows: dataset.rows, features: dataset.featureCount,
                                invalidRows: parsed.invalidRows, fromCache: false, notes: notes))
}

/// Maps a regular file for parsing (`ck_csv_map`); should another process truncate it meanwhile, the
/// resulting SIGBUS ends the process with a line naming the file (`ck_cleanup_watch_mapping`).
func mapCSV(_ path: String) throws -> (data: UnsafePointer<CChar>, size: Int64) {
    var st = stat()
    guard stat(path, &st) == 0 else {
        throw DataError(errno == ENOENT ? "\(path): no such file" : "\(path): \(String(cString: strerror(errno)))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw DataError("\(path): not a regular file") }
    var size: Int64 = 0
    guard let data = ck_csv_map(path, &size) else { throw DataError("\(path): \(String(cString: strerror(errno)))") }
    ck_cleanup_watch_mapping(data, size, "\(ProcessInfo.processInfo.processName): error: \(path): the file was truncated while being read\n")
    return (data, size)
}

/// The number of columns of a CSV file's first non-blank line (trailing empty fields do not
/// count): enough to tell whether a file for `predict` has its label column.
public func csvColumnCount(path: String, options: CSVOptions) throws -> Int {
    let (data, size) = try mapCSV(path)
    defer { ck_csv_unmap(data, size) }
    var p = size >= 3 && UInt8(bitPattern: data[0]) == 0xEF && UInt8(bitPattern: data[1]) == 0xBB
        && UInt8(bitPattern: data[2]) == 0xBF ? 3 : 0
    while p < Int(size) {
        let (end, next) = lineBounds(data, Int(size), p)
        if !isBlankLine(data, p, end) {
            let fields = try splitFields(data, p, end, options.delimiter).mapError {
                $0.error(path: path, line: ck_csv_line_number(data, Int64(p)))
            }.get()
            return fields.count - fields.reversed().prefix { $0.isEmpty }.count
        }
        p = next
    }
    throw DataError("\(path): no data rows")
}

/// Loads a CSV file window by window (about `windowBytes` of text each, cut at line starts) and
/// hands each window's rows to `body` in file order, so memory holds one window's rows, not the
/// file's. For files without a label column (`options.noTarget`) or with the classes of a model
/// (`classLabels`). Errors name the file's own line numbers. With the `encoding` of a model, the
/// columns are found by name and encoded as in training, and `unseen` gets each window's count of
/// values outside each categorical column's categories (and of missing values in each numeric column
/// without indicator). Without an encoding, `medians` (a model's `featureMedians`) fill the missing
/// values of the features, read by position, and `unseen` counts them; without either, a missing
/// value is an error. `missing` says whether a missing value that no indicator expects is filled or
/// refused. `numericTarget` as in `loadCSV`. With `unseenLabels`, a label outside `classLabels` is no error:
/// its rows get the label -1, and each window's unseen labels go there.
public func forEachCSVWindow(path: String, options: CSVOptions, classLabels: [String]?, windowBytes: Int,
                             encoding: ColumnEncoding? = nil, medians: [Float]? = nil, missing: MissingValuePolicy = .fill,
                             numericTarget: Bool = false, unseen: ([Int]) -> Void = { _ in },
                             unseenLabels: ((UnseenLabels) -> Void)? = nil,
                             _ body: (Dataset) throws -> Void) throws {
    let (data, size) = try mapCSV(path)
    defer { ck_csv_unmap(data, size) }
    var start = 0, sawRows = false
    // Counting on from the previous window's line: every window with an unseen label looks one up,
    // and counting each from the file's start made a file of W windows cost W passes.
    var lines = LineCounter(data)
    while start < Int(size) {
        var end = min(start + max(windowBytes, 1), Int(size))
        if end < Int(size) { end = lineBounds(data, Int(size), end).next }  // the next line start
        let window = start..<end
        let parsed: ParsedCSV
        if let encoding {
            let (table, outside) = try loadEncodedTable(path: path, data: data, size: Int(size), options: options,
                                                        encoding: encoding, window: window, missing: missing)
            parsed = table
            unseen(outside)
        } else if let medians {
            do {
                parsed = try parseCSV(path: path, data: data, size: Int(size), options: options, window: window,
                                      fallbackOn: [Int32(CK_CSV_ERR_MISSING.rawValue), Int32(CK_CSV_ERR_NUMBER.rawValue)])
            } catch is NeedsTableLoader {
                let (table, outside) = try loadFilledWindow(path: path, data: data, size: Int(size), options: options,
                                                            medians: medians, window: window, missing: missing)
                parsed = table
                unseen(outside)
            }
        } else {
            parsed = try parseCSV(path: path, data: data, size: Int(size), options: options, window: window)
        }
        start = end
        if parsed.labels.isEmpty { continue }
        sawRows = true
        let (own, firstOffsets, written) = finishLabels(parsed)
        try body(try finishTarget(own, classLabels: classLabels, path: path, options: options, numeric: numericTarget,
                                  unseen: unseenLabels, written: written) { lines.line(at: firstOffsets[$0]) })
    }
    if !sawRows { throw DataError("\(path): no data rows") }
}

// MARK: - Parsing

/// Line numbers of byte offsets, each counted from the offset asked before: offsets asked in file
/// order cost one pass over the text in all (an earlier one counts back).
struct LineCounter {
    let data: UnsafePointer<CChar>
    private var offset = 0, line = 1

    init(_ data: UnsafePointer<CChar>) { self.data = data }

    mutating func line(at target: Int) -> Int {
        let (from, to) = (min(offset, target), max(offset, target))
        let newlines = Int(ck_csv_line_number(data + from, Int64(to - from))) - 1
        line += target >= offset ? newlines : -newlines
        offset = target
        return line
    }
}

/// The line numbers of byte offsets, in one pass over the text however many there are.
private func lineNumbers(_ data: UnsafePointer<CChar>, offsets: [Int]) -> [Int] {
    var lines = [Int](repeating: 0, count: offsets.count), counter = LineCounter(data)
    for i in offsets.indices.sorted(by: { offsets[$0] < offsets[$1] }) { lines[i] = counter.line(at: offsets[i]) }
    return lines
}

/// The parser's output before the classes are ordered: labels index `labelTexts`.
struct ParsedCSV {
    var features: [Float]
    var labels: [Int32]
    var featureNames: [String]
    var labelTexts: [String]
    var labelFirstOffsets: [Int]
    var invalidRows: Int
}

func isBlankLine(_ data: UnsafePointer<CChar>, _ begin: Int, _ end: Int) -> Bool {
    end == begin || (end == begin + 1 && data[begin] == 13)
}

/// [begin, end) of the line starting at `begin` (end excludes the '\n'), and the next line's start.
func lineBounds(_ data: UnsafePointer<CChar>, _ size: Int, _ begin: Int) -> (end: Int, next: Int) {
    if let nl = memchr(data + begin, 10, size - begin) {
        let e = UnsafeRawPointer(nl).assumingMemoryBound(to: CChar.self) - data
        return (e, e + 1)
    }
    return (size, size)
}

/// The error for a control character (a byte below 0x20 but tab) in a field, which every pass over a
/// CSV file refuses (CK_CSV_ERR_CONTROL): a NUL or a stray carriage return would otherwise turn a
/// number column into a string column without a word. `column` is 1-based.
func controlCharacterError(path: String, line: Int64, column: Int, byte: UInt8, columnName: String?) -> DataError {
    let code = String(format: "0x%02X", byte)
    let what = byte == 13 ? " (a carriage return inside the line)" : byte == 0 ? " (NUL)" : ""
    let name = columnName.map { " of column '\($0)'" } ?? ""
    return DataError("\(path):\(line):\(column): control character \(code)\(what) in a field\(name); "
        + "only tab may appear inside a field")
}

/// The fields of a line as strings (quotes removed, "" unescaped); for a malformed field,
/// `.failure` with its index and text (a malformed quoted field's, or the control character).
struct MalformedField: Error {
    var index: Int
    var text: [UInt8]

    /// The error naming the file's line and the field's 1-based column (and its name in `names`).
    func error(path: String, line: Int64, names: [String]? = nil) -> DataError {
        if text.first != UInt8(ascii: "\"") {
            let name = names.flatMap { index < $0.count && !$0[index].isEmpty ? $0[index] : nil }
            return controlCharacterError(path: path, line: line, column: index + 1, byte: text[0], columnName: name)
        }
        return DataError("\(path):\(line):\(index + 1): malformed quoted field \(String(decoding: text, as: UTF8.self))")
    }
}
func splitFields(_ data: UnsafePointer<CChar>, _ begin: Int, _ end: Int, _ delimiter: UInt8) -> Result<[String], MalformedField> {
    var capacity = 64
    while true {
        var ranges = [Int64](repeating: 0, count: 2 * capacity)
        var quoted = [UInt8](repeating: 0, count: capacity)
        let n = Int(ck_csv_split_line(data + begin, data + end, CChar(bitPattern: delimiter), &ranges, &quoted, Int64(capacity)))
        if n < 0 {
            let text = [UInt8](UnsafeRawBufferPointer(start: data + begin + Int(ranges[0]), count: Int(ranges[1] - ranges[0])))
            return .failure(MalformedField(index: -1 - n, text: text))
        }
        if n > capacity { capacity = n; continue }
        return .success((0..<n).map { i in
            let a = Int(ranges[2 * i]), b = Int(ranges[2 * i + 1])
            let bytes = UnsafeRawBufferPointer(start: data + begin + a, count: b - a)
            let s = String(decoding: bytes, as: UTF8.self)
            return quoted[i] != 0 ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
        })
    }
}

func isNumber(_ s: String) -> Bool {
    var s = s
    return s.withUTF8 { buf in
        buf.withMemoryRebound(to: CChar.self) { c in
            var v: Float = 0
            return ck_parse_float(c.baseAddress!, c.baseAddress! + c.count, &v) >= 0
        }
    }
}

/// `window`: parse only the rows of the lines that start in this byte range of the file (its ends
/// are line starts); the header and the column layout still come from the file's first lines, and
/// an empty window is no error.
///
/// `fallbackOn`: the parser's statuses that throw `NeedsTableLoader` instead of an error (with any,
/// no row is dropped: the table loader decides).
func parseCSV(path: String, data: UnsafePointer<CChar>, size: Int, options: CSVOptions,
              window: Range<Int>? = nil, fallbackOn fallback: Set<Int32> = []) throws -> ParsedCSV {
    let layout = try CSVLayout(path: path, data: data, size: size, options: options)
    var spec = csvSpec(layout: layout, data: data, size: size, options: options, window: window,
                       tabularFallback: !fallback.isEmpty)
    var result = ck_csv_result()
    defer { ck_csv_result_free(&result) }
    let (status, features, labels) = parseRowsCountingOnOverflow(&spec, features: layout.featureColumns.count,
                                                                 target: layout.target, result: &result)
    if fallback.contains(status) { throw NeedsTableLoader() }
    if status != 0 { throw parseError(status, result, path: path, data: data, layout: layout) }
    if result.rows == 0 && window == nil {
        throw DataError(options.dropInvalidRows && result.invalid_rows > 0
            ? "\(path): no data rows (all \(result.invalid_rows) rows have invalid values)"
            : "\(path): no data rows")
    }
    let (labelTexts, firstOffsets) = labelTable(result)
    return ParsedCSV(features: features, labels: labels, featureNames: layout.featureNames, labelTexts: labelTexts,
                     labelFirstOffsets: firstOffsets, invalidRows: Int(result.invalid_rows))
}

/// The parser's spec for the layout's columns, over the window's lines (the whole file without one).
private func csvSpec(layout: CSVLayout, data: UnsafePointer<CChar>, size: Int, options: CSVOptions,
                     window: Range<Int>?, tabularFallback: Bool) -> ck_csv_spec {
    var spec = ck_csv_spec()
    spec.data = data
    spec.size = Int64(window?.upperBound ?? size)
    spec.begin = Int64(max(layout.firstData.begin, window?.lowerBound ?? 0))
    spec.fields = Int64(layout.total)
    spec.min_fields = Int64(layout.used)
    spec.target = Int64(layout.target)
    spec.delimiter = CChar(bitPattern: options.delimiter)
    spec.allow_nonfinite = options.allowNonFinite ? 1 : 0
    spec.drop_invalid = options.dropInvalidRows && !tabularFallback ? 1 : 0
    spec.threads = Int32(options.threads)
    spec.chunk_bytes = Int64(options.chunkBytes)
    return spec
}

/// The rows into a matrix reserved from the sampled rows per byte; when a chunk holds more rows than
/// the sample promised, the rows are counted and parsed again.
private func parseRowsCountingOnOverflow(_ spec: inout ck_csv_spec, features F: Int, target: Int,
                                         result: inout ck_csv_result) -> (Int32, [Float], [Int32]) {
    let estimated = parseRows(&spec, chunkRows: nil, rows: max(Int(ck_csv_row_capacity(&spec)), 0),
                              features: F, target: target, result: &result)
    guard estimated.0 == Int32(CK_CSV_ERR_CAPACITY.rawValue) else { return estimated }
    ck_csv_result_free(&result)
    var chunkRows = [Int64](repeating: 0, count: max(Int(ck_csv_chunk_count(&spec)), 1))
    let rows = Int(ck_csv_count_rows(&spec, &chunkRows))
    return chunkRows.withUnsafeBufferPointer {
        parseRows(&spec, chunkRows: $0.baseAddress, rows: rows, features: F, target: target, result: &result)
    }
}

/// The message for the parser's error `status`, naming the file, line, column and the offending text.
private func parseError(_ status: Int32, _ result: ck_csv_result, path: String, data: UnsafePointer<CChar>,
                        layout: CSVLayout) -> DataError {
    let line = Int(ck_csv_line_number(data, result.line_offset)), col = Int(result.column)
    let text = String(decoding: UnsafeRawBufferPointer(start: data + Int(result.text_begin),
                                                       count: Int(result.text_end - result.text_begin)), as: UTF8.self)
    let shown = text.count > 40 ? String(text.prefix(40)) + "..." : text
    let name = layout.columnName(col - 1)
    switch Int(status) {
    case Int(CK_CSV_ERR_NUMBER.rawValue):
        return DataError("\(path):\(line):\(col): invalid number \"\(shown)\" in column '\(name)'")
    case Int(CK_CSV_ERR_MISSING.rawValue):
        return DataError("\(path):\(line):\(col): missing value in column '\(name)'")
    case Int(CK_CSV_ERR_NONFINITE.rawValue):
        return DataError("\(path):\(line):\(col): non-finite value \"\(shown)\" in column '\(name)' (not allowed)")
    case Int(CK_CSV_ERR_RANGE.rawValue):
        return DataError("\(path):\(line):\(col): number \"\(shown)\" out of float32 range in column '\(name)'")
    case Int(CK_CSV_ERR_TRAILING.rawValue):
        return DataError("\(path):\(line):\(col): value \"\(shown)\" in column \(col), which is empty on the first data row")
    case Int(CK_CSV_ERR_FIELDS.rawValue):
        let expected = layout.used == layout.total ? "\(layout.total)" : "\(layout.used) to \(layout.total)"
        return DataError("\(path):\(line): expected \(expected) fields, found \(result.found_fields)")
    case Int(CK_CSV_ERR_QUOTE.rawValue):
        return DataError("\(path):\(line):\(col): malformed quoted field \(shown)")
    case Int(CK_CSV_ERR_CONTROL.rawValue):
        return controlCharacterError(path: path, line: Int64(line), column: col, byte: UInt8(bitPattern: data[Int(result.text_begin)]),
                                     columnName: col <= layout.used ? name : nil)
    case Int(CK_CSV_ERR_LABELS.rawValue):
        return DataError("\(path):\(line):\(col): too many distinct labels in column '\(name)' (more than 1048576; is it a class column?)")
    default:
        return DataError("\(path): out of memory while parsing")
    }
}

/// The parsed labels' texts and the file offsets of their first lines, by label id.
private func labelTable(_ result: ck_csv_result) -> (texts: [String], firstOffsets: [Int]) {
    let ids = 0..<Int(result.label_count)
    let texts = ids.map { i in
        let a = Int(result.label_offsets[i]), b = Int(result.label_offsets[i + 1])
        return String(decoding: UnsafeRawBufferPointer(start: result.label_text + a, count: b - a), as: UTF8.self)
    }
    return (texts, ids.map { Int(result.label_first_offset[$0]) })
}

/// One `ck_csv_parse` into a matrix of `rows` rows (its contents are the parsed rows): the status, the
/// features and the labels. `chunkRows`: each chunk's counted rows, or nil for the sampled estimate.
private func parseRows(_ spec: inout ck_csv_spec, chunkRows: UnsafePointer<Int64>?, rows: Int, features F: Int, target: Int,
                       result: inout ck_csv_result) -> (Int32, [Float], [Int32]) {
    var status: Int32 = 0
    var labels: [Int32] = []
    let features = [Float](unsafeUninitializedCapacity: max(rows * F, 1)) { fbuf, fcount in
        labels = [Int32](unsafeUninitializedCapacity: max(rows, 1)) { lbuf, lcount in
            if target < 0 { lbuf.initialize(repeating: 0) }
            status = ck_csv_parse(&spec, chunkRows, fbuf.baseAddress, lbuf.baseAddress, &result)
            lcount = status == 0 ? Int(result.rows) : 0
        }
        fcount = status == 0 ? Int(result.rows) * F : 0
    }
    return (status, features, labels)
}

// MARK: - Classes

/// A label as a number when it is one (finite); for LabelEncoder-style numeric ordering.
private func numericLabel(_ s: String) -> Double? {
    guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else { return nil }
    return v
}

/// How a numeric label prints: "1" for 1.0, else the shortest round-trip form.
func canonicalLabel(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 9.007199254740992e15 { return String(Int64(v)) }
    return "\(v)"
}

/// Orders the parsed label texts into classes; returns the dataset and, per class, the byte offset
/// of its first appearance and its text as written there (numerically equal texts, "2" and "2.0",
/// are one class, named "2").
func finishLabels(_ parsed: ParsedCSV) -> (dataset: Dataset, firstOffsets: [Int], written: [String]) {
    let texts = parsed.labelTexts
    if texts.isEmpty {  // no label column (CSVOptions.noTarget)
        return (Dataset(features: parsed.features, labels: parsed.labels, featureNames: parsed.featureNames, classLabels: []), [], [])
    }
    var classOf = [Int32](repeating: 0, count: texts.count)
    var classNames: [String] = [], written: [String] = []
    var firstOffsets: [Int] = []
    let numbers = texts.map(numericLabel)
    if !texts.isEmpty, numbers.allSatisfy({ $0 != nil }) {
        let values = Array(Set(numbers.map { $0! })).sorted()
        let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, Int32($0)) })
        classNames = values.map(canonicalLabel)
        firstOffsets = [Int](repeating: Int.max, count: values.count)
        written = classNames
        for (i, v) in numbers.enumerated() {
            let c = Int(index[v!]!)
            classOf[i] = Int32(c)
            if parsed.labelFirstOffsets[i] < firstOffsets[c] { (firstOffsets[c], written[c]) = (parsed.labelFirstOffsets[i], texts[i]) }
        }
    } else {
        let order = texts.indices.sorted { texts[$0].utf8.lexicographicallyPrecedes(texts[$1].utf8) }
        for (c, i) in order.enumerated() {
            classOf[i] = Int32(c)
            classNames.append(texts[i])
            firstOffsets.append(parsed.labelFirstOffsets[i])
        }
        written = classNames
    }
    var labels = parsed.labels
    labels.withUnsafeMutableBufferPointer { buf in
        classOf.withUnsafeBufferPointer { map in
            for r in buf.indices { buf[r] = map[Int(buf[r])] }
        }
    }
    let dataset = Dataset(features: parsed.features, labels: labels, featureNames: parsed.featureNames,
                          classLabels: classNames)
    return (dataset, firstOffsets, written)
}

/// Checks a regression target (`numeric`), then maps the classes onto `classLabels`.
private func finishTarget(_ dataset: Dataset, classLabels: [String]?, path: String, options: CSVOptions, numeric: Bool,
                          unseen: ((UnseenLabels) -> Void)? = nil, written: [String]? = nil,
                          firstLine: (Int) -> Int?) throws -> Dataset {
    if numeric { try NumericTarget.check(dataset, path: path, options: options, firstLine: firstLine) }
    return try applyClassLabels(dataset, classLabels: classLabels, path: path, options: options, unseen: unseen, written: written,
                                firstLine: firstLine)
}

/// Maps a dataset's own classes onto `classLabels` (nil: unchanged). `firstLine(c)` is the line
/// where class c first appears. A class the caller does not know is an error naming its first line
/// and column, or with `unseen` (predict) its rows get the label -1 and `unseen` gets the labels.
/// Messages show a label as `written[c]` (its text where it first appears; nil: the class names,
/// as from a cache).
func applyClassLabels(_ dataset: Dataset, classLabels: [String]?, path: String, options: CSVOptions,
                      unseen: ((UnseenLabels) -> Void)? = nil, written: [String]? = nil,
                      firstLine: (Int) -> Int?) throws -> Dataset {
    guard let classLabels, classLabels != dataset.classLabels else { return dataset }
    let map = classIndices(of: dataset.classLabels, in: classLabels)
    let unknown = map.indices.filter { map[$0] == nil }
    if !unknown.isEmpty {
        // The unknown labels in the order they first appear in the file (the classes are sorted by
        // name). Rows are in file order, so one sweep orders them and counts their rows; only the
        // first one's line is looked up (a lookup counts lines through the text: a target column of
        // continuous values would otherwise count once per distinct value).
        var firstRow = [Int](repeating: .max, count: dataset.classCount)
        var rows = [Int](repeating: 0, count: dataset.classCount)
        for (r, c) in dataset.labels.enumerated() {
            rows[Int(c)] += 1
            firstRow[Int(c)] = min(firstRow[Int(c)], r)
        }
        let ordered = unknown.sorted { firstRow[$0] < firstRow[$1] }
        let (column, name) = try CSVLayout.target(path: path, options: options)
        let shown = written ?? dataset.classLabels
        let line = firstLine(ordered[0]), label = shown[ordered[0]]
        guard let unseen else {
            let at = line.map { ":\($0):\(column + 1)" } ?? ""
            throw DataError("\(path)\(at): unknown label '\(label)' in column '\(name)' (classes: \(classLabels.joined(separator: ", ")))")
        }
        unseen(UnseenLabels(path: path, line: line, column: column + 1, labels: ordered.map { (dataset.classLabels[$0], shown[$0], rows[$0]) }))
    }
    var out = dataset
    out.classLabels = classLabels
    out.labels.withUnsafeMutableBufferPointer { buf in
        for r in buf.indices { buf[r] = map[Int(buf[r])] ?? -1 }
    }
    return out
}

/// Each label's index in `classLabels` (numerically equal labels match: "1.0" is class "1"), or nil.
private func classIndices(of labels: [String], in classLabels: [String]) -> [Int32?] {
    var lookup: [String: Int32] = [:]
    var numericLookup: [Double: Int32] = [:]
    for (i, name) in classLabels.enumerated() {
        lookup[name] = lookup[name] ?? Int32(i)
        if let v = numericLabel(name) { numericLookup[v] = numericLookup[v] ?? Int32(i) }
    }
    return labels.map { lookup[$0] ?? numericLabel($0).flatMap { numericLookup[$0] } }
}
