import CKernels
import Foundation

/// The parser for files the all-numeric one refuses (string columns, blanks, stray values in unnamed
/// trailing columns) or column options it cannot honour; see `ColumnEncoding` for what it makes of
/// them. Line-aligned chunks of the file are read in parallel by the C passes of csv_table.c
/// (CKernels.h, "Tabular CSV"):
/// 1. survey (training only): per column, missing values and values that are not numbers -> kinds,
///    and the values of the likely categorical columns (a second survey counts those of categorical
///    columns the first did not); each thread keeps its own tables, merged in file order;
/// 2. write: the rows the survey kept (a number or a category id per column, 4 bytes each) expanded
///    into the final matrix (one-hot included), each chunk's released as it is done; or, when they
///    cannot serve (predict, a column the survey did not count, a value that is an error or drops its
///    row), each chunk's rows read again from the text straight into its part of the matrix.
/// Memory: the matrix, the category tables, the pages of the chunks being read, and the kept rows
/// (one cell per column, against at least one input per column in the matrix; each chunk's cells are
/// released as the matrix's rows are written, so the two together stay about the larger of them).
struct TableLoader {
    let path: String
    let data: UnsafePointer<CChar>
    let size: Int
    let options: CSVOptions
    let layout: CSVLayout
    /// Chunk i is [chunkStarts[i], chunkStarts[i + 1]).
    let chunkStarts: [Int64]
    let naValues: [String]

    init(path: String, data: UnsafePointer<CChar>, size: Int, options: CSVOptions, layout: CSVLayout,
         naValues: [String], window: Range<Int>? = nil) {
        self.path = path
        self.data = data
        self.size = size
        self.options = options
        self.layout = layout
        self.naValues = naValues
        let begin = max(layout.firstData.begin, window?.lowerBound ?? 0), end = window?.upperBound ?? size
        let nominal = options.chunkBytes > 0 ? options.chunkBytes
            : min(max((end - begin) / (options.threads * 8), 1 << 20), 64 << 20)
        var starts = [begin]
        while let last = starts.last, last + nominal < end {
            let next = lineBounds(data, end, last + nominal).next
            if next >= end { break }
            starts.append(next)
        }
        chunkStarts = begin < end ? (starts + [end]).map(Int64.init) : [Int64(end)]
    }

    var chunks: Int { chunkStarts.count - 1 }

    /// `body` with the C passes' view of the file.
    private func withSpec<T>(_ body: (inout ck_table_spec) throws -> T) rethrows -> T {
        var text: [CChar] = [], offsets: [Int64] = [0]
        for value in naValues {
            text += value.utf8.map { CChar(bitPattern: $0) }
            offsets.append(Int64(text.count))
        }
        return try chunkStarts.withUnsafeBufferPointer { starts in
            try text.withUnsafeBufferPointer { text in
                try offsets.withUnsafeBufferPointer { offsets in
                    var spec = ck_table_spec()
                    spec.data = data
                    spec.size = Int64(size)
                    spec.chunk_starts = starts.baseAddress
                    spec.chunks = Int64(chunks)
                    spec.fields = Int64(layout.total)
                    spec.min_fields = Int64(layout.used)
                    spec.delimiter = CChar(bitPattern: options.delimiter)
                    spec.threads = Int32(options.threads)
                    spec.na_text = text.baseAddress
                    spec.na_offsets = offsets.baseAddress
                    spec.na_count = Int64(naValues.count)
                    return try body(&spec)
                }
            }
        }
    }

    /// A pass's error as the user reads it: "path:line:column: ...".
    func message(_ e: ck_table_error) -> DataError {
        let line = ck_csv_line_number(data, e.line_offset), c = Int(e.column)
        let raw = String(decoding: UnsafeRawBufferPointer(start: data + Int(e.text_begin), count: Int(e.text_end - e.text_begin)),
                         as: UTF8.self)
        let text = e.quoted != 0 ? raw.replacingOccurrences(of: "\"\"", with: "\"") : raw
        let shown = text.count > 40 ? String(text.prefix(40)) + "..." : text
        func value(_ what: String) -> DataError {
            DataError("\(path):\(line):\(c + 1): \(what) \"\(shown)\" in column '\(layout.columnName(c))'")
        }
        switch UInt32(e.status) {
        case CK_CSV_ERR_QUOTE.rawValue: return DataError("\(path):\(line):\(c + 1): malformed quoted field \(raw)")
        case CK_CSV_ERR_CONTROL.rawValue:
            return controlCharacterError(path: path, line: line, column: c + 1, byte: UInt8(bitPattern: data[Int(e.text_begin)]),
                                         columnName: c < layout.used ? layout.columnName(c) : nil)
        case CK_CSV_ERR_FIELDS.rawValue:
            let expected = layout.used == layout.total ? "\(layout.total)" : "\(layout.used) to \(layout.total)"
            return DataError("\(path):\(line): expected \(expected) fields, found \(c)")
        case CK_CSV_ERR_NUMBER.rawValue: return value("invalid number")
        case CK_CSV_ERR_NONFINITE.rawValue: return value("non-finite value")
        case CK_CSV_ERR_RANGE.rawValue: return value("out of float32 range: number")
        case CK_CSV_ERR_MISSING.rawValue where c == layout.target:
            return DataError("\(path):\(line):\(c + 1): missing label in column '\(layout.columnName(c))'")
        case CK_CSV_ERR_MISSING.rawValue:
            return DataError("\(path):\(line):\(c + 1): missing value in column '\(layout.columnName(c))', which had none in "
                + "training (refused by --on-missing error)")
        case CK_CSV_ERR_LABELS.rawValue:
            return DataError("\(path):\(line):\(layout.target + 1): too many distinct labels in column "
                + "'\(layout.columnName(layout.target))' (more than \(maximumLabels); is it a class column?)")
        default: return DataError("\(path): out of memory while parsing")
        }
    }
}

/// A label column may have at most this many distinct values (as in the all-numeric parser).
let maximumLabels = 1 << 20

// MARK: - Survey (training)

extension TableLoader {
    struct Survey {
        var chunkRows: [Int64]
        var rows: Int
        /// Per file column.
        var missing: [Int]
        var nonNumbers: [Int]
        /// The values of the counted columns, by file column.
        var categories: [Int: CategoryCounts]
        /// Values in the unnamed trailing columns (after `layout.used`), and the first one's line start.
        var strays: Int
        var firstStray: Int
        /// The rows themselves, when asked for.
        var kept: KeptRows?
    }

    /// The compact rows of a survey (ck_table_rows), until `write` expands them.
    final class KeptRows {
        fileprivate(set) var rows: OpaquePointer?
        init(_ rows: OpaquePointer?) { self.rows = rows }
        func release() {
            ck_table_rows_free(rows)
            rows = nil
        }
        deinit { ck_table_rows_free(rows) }
    }

    /// Pass 1 over the file columns `surveyed` (missing values, non-numbers), collecting the values
    /// of `counted` (and with `keepingRows`, the rows with their labels, for `write`).
    func survey(_ surveyed: [Int], counting counted: [Int], keepingRows: Bool = false) throws -> Survey {
        var modes = [UInt8](repeating: 0, count: layout.used)
        for c in surveyed { modes[c] |= UInt8(CK_TABLE_SURVEY) }
        for c in counted { modes[c] |= UInt8(CK_TABLE_COUNT) }
        var chunkRows = [Int64](repeating: 0, count: max(chunks, 1))
        var missing = [Int64](repeating: 0, count: layout.total), nonNumbers = missing
        var values = [ck_table_values](repeating: ck_table_values(), count: layout.total)
        var result = ck_table_survey_result()
        var kept: OpaquePointer?
        let status = withSpec { spec in
            chunkRows.withUnsafeMutableBufferPointer { rows in
                missing.withUnsafeMutableBufferPointer { missing in
                    nonNumbers.withUnsafeMutableBufferPointer { nonNumbers in
                        values.withUnsafeMutableBufferPointer { values in
                            result.chunk_rows = rows.baseAddress
                            result.missing = missing.baseAddress
                            result.non_numbers = nonNumbers.baseAddress
                            result.values = values.baseAddress
                            if !keepingRows {
                                return ck_table_survey(&spec, modes, Int64(maximumCategories), &result)
                            }
                            return ck_table_survey_keeping(&spec, modes, Int64(maximumCategories), Int64(layout.target),
                                                           Int64(maximumLabels), &result, &kept)
                        }
                    }
                }
            }
        }
        defer { for c in values.indices { ck_table_values_free(&values[c]) } }
        if status != 0 { throw message(result.error) }
        return Survey(chunkRows: chunkRows, rows: Int(chunkRows.reduce(0, +)), missing: missing.map(Int.init),
                      nonNumbers: nonNumbers.map(Int.init),
                      categories: Dictionary(uniqueKeysWithValues: counted.map { ($0, CategoryCounts(values[$0])) }),
                      strays: Int(result.strays), firstStray: Int(result.first_stray),
                      kept: kept.map(KeptRows.init))
    }
}

// MARK: - Writing rows (training and predict)

extension TableLoader {
    /// Pass 2: the rows of every chunk into a rows x `encoding.inputCount` matrix, `columns[k]` being
    /// the file column of `encoding.columns[k]`, whose values are looked up by their `spellings[k]`
    /// (training: every byte form the survey met; by default the categories). Missing numeric values
    /// are the fill, or NaN before fills are fitted. Returns the parse and, per column, the values
    /// outside its categories (unseen in training, or folded into `<other>`), or for a numeric column
    /// without indicator its missing values, which `missing` fills or refuses. `kept` rows are
    /// expanded when they hold what the encoding reads, and released in any case.
    func write(_ encoding: ColumnEncoding, columns: [Int], featureNames: [String], spellings: [Int: [String]] = [:],
               chunkRows known: [Int64]? = nil, kept: KeptRows? = nil,
               missing: MissingValuePolicy = .fill) throws -> (ParsedCSV, [Int]) {
        let chunkRows = try known ?? survey([], counting: []).chunkRows
        let rows = Int(chunkRows.reduce(0, +)), width = encoding.inputCount, offsets = encoding.offsets
        var inputs: [ck_table_input] = [], keyText: [CChar] = [], keyOffsets: [Int64] = [0], keySlots: [Int32] = []
        for (k, column) in encoding.columns.enumerated() {
            var input = ck_table_input()
            input.column = Int64(columns[k])
            input.offset = Int64(offsets[k])
            input.categorical = column.kind == .categorical ? 1 : 0
            input.indicator = column.indicator ? 1 : 0
            input.fill = column.fill ?? .nan
            input.width = Int64(column.width)
            input.other = Int64(column.otherSlot)
            input.keys_begin = Int64(keySlots.count)
            if column.kind == .categorical {
                let slots = column.slotIndex
                for key in spellings[k] ?? column.categories {
                    guard let slot = slots[key] else { continue }
                    keyText += key.utf8.map { CChar(bitPattern: $0) }
                    keyOffsets.append(Int64(keyText.count))
                    keySlots.append(slot)
                }
            }
            input.keys_end = Int64(keySlots.count)
            inputs.append(input)
        }
        var unseen = [Int64](repeating: 0, count: max(inputs.count, 1))
        var written = ck_table_written()
        defer { ck_table_values_free(&written.labels) }
        var status: Int32 = 0
        var labels: [Int32] = []
        let features = [Float](unsafeUninitializedCapacity: max(rows * width, 1)) { x, xCount in
            labels = [Int32](unsafeUninitializedCapacity: max(rows, 1)) { y, yCount in
                if layout.target < 0 { y.initialize(repeating: 0) }
                status = withSpec { spec in
                    inputs.withUnsafeBufferPointer { inputs in
                        keyText.withUnsafeBufferPointer { keyText in
                            keyOffsets.withUnsafeBufferPointer { keyOffsets in
                                keySlots.withUnsafeBufferPointer { keySlots in
                                    unseen.withUnsafeMutableBufferPointer { unseen in
                                        var plan = ck_table_plan()
                                        plan.inputs = inputs.baseAddress
                                        plan.input_count = Int64(inputs.count)
                                        plan.width = Int64(width)
                                        plan.target = Int64(layout.target)
                                        plan.allow_nonfinite = options.allowNonFinite ? 1 : 0
                                        plan.drop_invalid = options.dropInvalidRows ? 1 : 0
                                        plan.refuse_missing = missing == .error ? 1 : 0
                                        plan.key_text = keyText.baseAddress
                                        plan.key_offsets = keyOffsets.baseAddress
                                        plan.key_slots = keySlots.baseAddress
                                        plan.label_limit = Int64(maximumLabels)
                                        written.unseen = unseen.baseAddress
                                        if let rows = kept?.rows {
                                            let rc = ck_table_expand(rows, &plan, x.baseAddress, y.baseAddress, &written)
                                            kept?.release()
                                            if rc != Int32(CK_TABLE_REWRITE) { return rc }
                                        }
                                        return ck_table_write(&spec, &plan, chunkRows, x.baseAddress, y.baseAddress, &written)
                                    }
                                }
                            }
                        }
                    }
                }
                yCount = status == 0 ? Int(written.rows) : 0
            }
            xCount = status == 0 ? Int(written.rows) * width : 0
        }
        if status != 0 { throw message(written.error) }
        let invalid = Int(written.invalid_rows)
        if written.rows == 0 && chunks > 0 && rows > 0 && invalid == rows {
            throw DataError("\(path): no data rows (all \(invalid) rows have invalid values)")
        }
        let (texts, firstOffsets) = distinctLabels(written.labels, &labels)
        return (ParsedCSV(features: features, labels: labels, featureNames: featureNames, labelTexts: texts,
                          labelFirstOffsets: firstOffsets, invalidRows: invalid),
                encoding.columns.indices.map { Int(unseen[$0]) })
    }

    /// The labels' texts and first line offsets; byte forms of one Swift string (canonically
    /// equivalent ones) become one label, `labels` renumbered to match.
    private func distinctLabels(_ values: ck_table_values, _ labels: inout [Int32]) -> ([String], [Int]) {
        var index: [String: Int32] = [:], texts: [String] = [], firstOffsets: [Int] = []
        let map = (0..<Int(values.count)).map { i -> Int32 in
            let text = CategoryCounts.text(values, i)
            if let id = index[text] {
                firstOffsets[Int(id)] = min(firstOffsets[Int(id)], Int(values.first[i]))
                return id
            }
            index[text] = Int32(texts.count)
            texts.append(text)
            firstOffsets.append(Int(values.first[i]))
            return Int32(texts.count - 1)
        }
        if texts.count < map.count {
            labels.withUnsafeMutableBufferPointer { y in for r in y.indices { y[r] = map[Int(y[r])] } }
        }
        return (texts, firstOffsets)
    }
}
