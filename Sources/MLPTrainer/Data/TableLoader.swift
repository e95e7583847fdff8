import CKernels
import Foundation

/// The parser for files the all-numeric one refuses (string columns, blanks, stray values in unnamed
/// trailing columns) or column options it cannot honour; see `ColumnEncoding` for what it makes of
/// them. Line-aligned chunks of the file are read in parallel, in up to three passes:
/// 1. survey (training only): per column, missing values and values that are not numbers -> kinds;
/// 2. count (training, categorical columns only): each chunk's distinct values, merged in file order;
/// 3. write: each chunk's rows straight into its part of the final matrix (one-hot included).
/// Memory: the matrix, the categories, and one row's field offsets per thread.
struct TableLoader {
    let path: String
    let data: UnsafePointer<CChar>
    let size: Int
    let options: CSVOptions
    let layout: CSVLayout
    let chunks: [Range<Int>]
    let naValues: [[UInt8]]

    init(path: String, data: UnsafePointer<CChar>, size: Int, options: CSVOptions, layout: CSVLayout,
         naValues: [String], window: Range<Int>? = nil) {
        self.path = path
        self.data = data
        self.size = size
        self.options = options
        self.layout = layout
        self.naValues = naValues.map { Array($0.utf8) }
        let begin = max(layout.firstData.begin, window?.lowerBound ?? 0), end = window?.upperBound ?? size
        let nominal = options.chunkBytes > 0 ? options.chunkBytes
            : min(max((end - begin) / (options.threads * 8), 1 << 20), 64 << 20)
        var starts = [begin]
        while let last = starts.last, last + nominal < end {
            let next = lineBounds(data, end, last + nominal).next
            if next >= end { break }
            starts.append(next)
        }
        chunks = begin < end ? zip(starts, starts.dropFirst() + [end]).map { $0..<$1 } : []
    }

    /// A row's problem: the message is "\(path):\(line)\(suffix)".
    struct RowError: Error {
        var offset: Int
        var suffix: String
    }

    func message(_ error: RowError) -> DataError {
        DataError("\(path):\(ck_csv_line_number(data, Int64(error.offset)))\(error.suffix)")
    }

    /// Drops the whole pages inside `range` of the mapping from the resident set (they stay in the
    /// page cache).
    private func release(_ range: Range<Int>) {
        let page = 4096
        let a = (range.lowerBound + page - 1) / page * page, b = range.upperBound >= size ? range.upperBound : range.upperBound / page * page
        if b > a { madvise(UnsafeMutableRawPointer(mutating: data + a), b - a, MADV_DONTNEED) }
    }

    // MARK: - Rows and fields

    /// One line's fields: offsets from the line start, and whether each was quoted.
    struct Fields {
        var line = 0
        var count = 0
        var ranges: [Int64]
        var quoted: [UInt8]

        init(capacity: Int) {
            ranges = [Int64](repeating: 0, count: 2 * capacity)
            quoted = [UInt8](repeating: 0, count: capacity)
        }
    }

    /// Calls `body` for each non-blank line of `chunk` with its fields, after checking their count.
    func forEachRow(in chunk: Range<Int>, _ body: (inout Fields) throws -> Void) throws {
        var fields = Fields(capacity: layout.total + 1)
        let delimiter = CChar(bitPattern: options.delimiter)
        var p = chunk.lowerBound
        while p < chunk.upperBound {
            let (end, next) = lineBounds(data, chunk.upperBound, p)
            defer { p = next }
            if isBlankLine(data, p, end) { continue }
            let n = Int(ck_csv_split_line(data + p, data + end, delimiter, &fields.ranges, &fields.quoted,
                                          Int64(layout.total + 1)))
            if n < 0 {
                throw RowError(offset: p, suffix: ":\(-n): malformed quoted field \(text(p, fields, 0, quoted: false))")
            }
            if n < layout.used || n > layout.total {
                let expected = layout.used == layout.total ? "\(layout.total)" : "\(layout.used) to \(layout.total)"
                throw RowError(offset: p, suffix: ": expected \(expected) fields, found \(n)")
            }
            fields.line = p
            fields.count = n
            try body(&fields)
        }
    }

    func bytes(_ fields: Fields, _ column: Int) -> UnsafeRawBufferPointer {
        let a = Int(fields.ranges[2 * column]), b = Int(fields.ranges[2 * column + 1])
        return UnsafeRawBufferPointer(start: data + fields.line + a, count: b - a)
    }

    func text(_ line: Int, _ fields: Fields, _ column: Int, quoted: Bool? = nil) -> String {
        var f = fields
        f.line = line
        let s = String(decoding: bytes(f, column), as: UTF8.self)
        return (quoted ?? (fields.quoted[column] != 0)) ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
    }

    func isMissing(_ fields: Fields, _ column: Int) -> Bool {
        guard column < fields.count else { return true }
        let b = bytes(fields, column)
        return b.isEmpty || naValues.contains { $0.count == b.count && $0.elementsEqual(b) }
    }

    /// ck_parse_float of the field: 0 number, 1 inf/nan literal, -1 not a number.
    func number(_ fields: Fields, _ column: Int, _ value: inout Float) -> Int32 {
        let a = Int(fields.ranges[2 * column]), b = Int(fields.ranges[2 * column + 1])
        return ck_parse_float(data + fields.line + a, data + fields.line + b, &value)
    }

    /// `body(i)` for every chunk, on `options.threads` threads; the results in chunk order. Each
    /// chunk's pages of the mapped file are dropped from memory after it (as the all-numeric parser does).
    func perChunk<T>(_ body: (Int) -> T) -> [T] {
        let n = chunks.count, threads = max(1, min(options.threads, n))
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: max(n, 1))
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body, results = results, loader = self
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for i in stride(from: t, to: n, by: threads) {
                    results[i] = body(i)
                    loader.release(loader.chunks[i])
                }
            }
        }
        return (0..<n).map { results[$0]! }
    }
}

// MARK: - Survey and counting (training)

extension TableLoader {
    struct Survey {
        var rows = 0
        var missing: [Int]
        var nonNumbers: [Int]
        /// Values in the unnamed trailing columns (after `layout.used`), and the first one's line.
        var strays = 0
        var firstStray = Int.max
        /// The values of the columns counted on the way (see `survey`).
        var categories: [CategoryCounts]
        var error: RowError?

        init(columns: Int, counted: Int) {
            missing = [Int](repeating: 0, count: columns)
            nonNumbers = [Int](repeating: 0, count: columns)
            categories = [CategoryCounts](repeating: CategoryCounts(), count: counted)
        }

        static func + (a: Survey, b: Survey) -> Survey {
            var s = a
            s.rows += b.rows
            s.missing = zip(a.missing, b.missing).map(+)
            s.nonNumbers = zip(a.nonNumbers, b.nonNumbers).map(+)
            s.strays += b.strays
            s.firstStray = min(a.firstStray, b.firstStray)
            s.categories = zip(a.categories, b.categories).map { CategoryCounts.merged([$0, $1]) }
            s.error = a.error ?? b.error
            return s
        }
    }

    /// Pass 1 over `columns` (file columns); it also counts the values of `counted` (indexes into
    /// `columns`: the likely categorical ones), so pass 2 can skip them.
    func survey(_ columns: [Int], counting counted: [Int]) throws -> Survey {
        let parts = perChunk { i -> Survey in
            var s = Survey(columns: columns.count, counted: counted.count)
            var value: Float = 0
            do {
                try forEachRow(in: chunks[i]) { f in
                    s.rows += 1
                    for (k, c) in columns.enumerated() {
                        if isMissing(f, c) { s.missing[k] += 1 } else if number(f, c, &value) < 0 { s.nonNumbers[k] += 1 }
                    }
                    for (k, c) in counted.enumerated() {
                        s.categories[k].add(isMissing(f, columns[c]) ? "" : text(f.line, f, columns[c]))
                    }
                    for c in layout.used..<f.count where !bytes(f, c).isEmpty {
                        s.strays += 1
                        s.firstStray = min(s.firstStray, f.line)
                    }
                }
            } catch { s.error = error as? RowError }
            return s
        }
        let total = parts.reduce(Survey(columns: columns.count, counted: counted.count), +)
        if let error = total.error { throw message(error) }
        return total
    }

    /// Pass 2: the distinct values of the categorical `columns`, merged in file order.
    func countCategories(_ columns: [Int]) -> [CategoryCounts] {
        let parts = perChunk { i -> [CategoryCounts] in
            var counts = [CategoryCounts](repeating: CategoryCounts(), count: columns.count)
            try? forEachRow(in: chunks[i]) { f in
                for (k, c) in columns.enumerated() {
                    counts[k].add(isMissing(f, c) ? "" : text(f.line, f, c))
                }
            }
            return counts
        }
        return columns.indices.map { k in CategoryCounts.merged(parts.map { $0[k] }) }
    }
}

// MARK: - Writing rows (training and predict)

extension TableLoader {
    /// One chunk's written rows, its label texts (ids index them) and counts.
    struct Written {
        var rows = 0
        var invalid = 0
        var labels: [String] = []
        var labelFirstOffsets: [Int] = []
        var unseen: [Int]
        var error: RowError?
    }

    /// Pass 3: the rows of every chunk into a rows x `encoding.inputCount` matrix, `columns[k]` being
    /// the file column of `encoding.columns[k]`. Missing numeric values are the fill, or NaN before
    /// fills are fitted. Returns the parse and, per column, the values outside its
    /// categories (unseen in training, or folded into `<other>`).
    func write(_ encoding: ColumnEncoding, columns: [Int], featureNames: [String]) throws -> (ParsedCSV, [Int]) {
        let rowCounts = perChunk { i -> Int in
            var n = 0, p = chunks[i].lowerBound
            while p < chunks[i].upperBound {
                let (e, next) = lineBounds(data, chunks[i].upperBound, p)
                if !isBlankLine(data, p, e) { n += 1 }
                p = next
            }
            return n
        }
        var row0 = [0]
        for n in rowCounts { row0.append(row0.last! + n) }
        let width = encoding.inputCount, offsets = encoding.offsets
        let slots = encoding.columns.map(\.slotIndex)
        var parts: [Written] = []
        var labels = [Int32](repeating: 0, count: row0.last!)
        var features = [Float](repeating: 0, count: row0.last! * width)
        features.withUnsafeMutableBufferPointer { x in
            labels.withUnsafeMutableBufferPointer { y in
                nonisolated(unsafe) let x = x, y = y
                parts = perChunk { i in
                    writeChunk(i, encoding, columns, offsets, slots, x.baseAddress! + row0[i] * width, y.baseAddress! + row0[i])
                }
            }
        }
        if let error = parts.compactMap(\.error).first { throw message(error) }
        // Labels: the chunks' tables merged by first appearance; rows squeezed together.
        var labelIndex: [String: Int32] = [:], labelTexts: [String] = [], firstOffsets: [Int] = []
        var kept = 0
        for (i, part) in parts.enumerated() {
            let map = part.labels.enumerated().map { j, label -> Int32 in
                if let id = labelIndex[label] { return id }
                labelIndex[label] = Int32(labelTexts.count)
                labelTexts.append(label)
                firstOffsets.append(part.labelFirstOffsets[j])
                return Int32(labelTexts.count - 1)
            }
            for r in 0..<part.rows {
                labels[kept + r] = layout.target < 0 ? 0 : map[Int(labels[row0[i] + r])]
            }
            if kept != row0[i] {
                features.withUnsafeMutableBufferPointer { x in
                    (x.baseAddress! + kept * width).update(from: x.baseAddress! + row0[i] * width, count: part.rows * width)
                }
            }
            kept += part.rows
        }
        features.removeLast(features.count - kept * width)
        labels.removeLast(labels.count - kept)
        let invalid = parts.reduce(0) { $0 + $1.invalid }
        if kept == 0 && chunks.count > 0 && row0.last! > 0 && invalid == row0.last! {
            throw DataError("\(path): no data rows (all \(invalid) rows have invalid values)")
        }
        let unseen = encoding.columns.indices.map { k in parts.reduce(0) { $0 + $1.unseen[k] } }
        return (ParsedCSV(features: features, labels: labels, featureNames: featureNames, labelTexts: labelTexts,
                          labelFirstOffsets: firstOffsets, invalidRows: invalid), unseen)
    }

    private func writeChunk(_ i: Int, _ encoding: ColumnEncoding, _ columns: [Int], _ offsets: [Int],
                            _ slots: [[String: Int32]], _ x: UnsafeMutablePointer<Float>,
                            _ y: UnsafeMutablePointer<Int32>) -> Written {
        var w = Written(unseen: [Int](repeating: 0, count: columns.count))
        var labelIndex: [String: Int32] = [:]
        let width = encoding.inputCount, target = layout.target
        do {
            try forEachRow(in: chunks[i]) { f in
                let row = x + w.rows * width
                if let problem = writeRow(f, encoding, columns, offsets, slots, row, &w.unseen) {
                    guard options.dropInvalidRows else { throw problem }
                    w.invalid += 1
                    return
                }
                if target >= 0 {
                    if bytes(f, target).isEmpty {  // as the all-numeric parser: only an empty label is missing
                        guard options.dropInvalidRows else {
                            throw RowError(offset: f.line, suffix: ":\(target + 1): missing label in column '\(layout.columnName(target))'")
                        }
                        w.invalid += 1
                        return
                    }
                    let label = text(f.line, f, target)
                    if let id = labelIndex[label] {
                        y[w.rows] = id
                    } else {
                        y[w.rows] = Int32(w.labels.count)
                        labelIndex[label] = Int32(w.labels.count)
                        w.labels.append(label)
                        w.labelFirstOffsets.append(f.line)
                    }
                }
                w.rows += 1
            }
        } catch { w.error = error as? RowError }
        return w
    }

    /// Writes one row's inputs; returns the row's first invalid value, if any.
    private func writeRow(_ f: Fields, _ encoding: ColumnEncoding, _ columns: [Int], _ offsets: [Int],
                          _ slots: [[String: Int32]], _ row: UnsafeMutablePointer<Float>, _ unseen: inout [Int]) -> RowError? {
        var problem: RowError?
        func invalid(_ c: Int, _ what: String) {
            if problem == nil {
                let shown = text(f.line, f, c)
                problem = RowError(offset: f.line, suffix: ":\(c + 1): \(what) \"\(shown.count > 40 ? String(shown.prefix(40)) + "..." : shown)\" in column '\(layout.columnName(c))'")
            }
        }
        for (k, column) in encoding.columns.enumerated() {
            let c = columns[k], at = row + offsets[k]
            switch column.kind {
            case .numeric:
                var v: Float = 0
                let missing = isMissing(f, c)
                if !missing {
                    let rc = number(f, c, &v)
                    if rc < 0 { invalid(c, "invalid number") }
                    else if rc == 1 && v.isInfinite && !options.allowNonFinite { invalid(c, "non-finite value") }
                    else if rc == 0 && v.isInfinite { invalid(c, "out of float32 range: number") }
                }
                let absent = missing || v.isNaN
                at[0] = absent ? column.fill ?? .nan : v
                if column.indicator { at[1] = absent ? 1 : 0 }
            case .categorical:
                for s in 0..<column.width { at[s] = 0 }
                let value = isMissing(f, c) ? "" : text(f.line, f, c)
                if let s = slots[k][value] {
                    at[Int(s)] = 1
                } else {
                    if column.otherSlot >= 0 { at[Int(column.otherSlot)] = 1 }
                    unseen[k] += 1
                }
            }
        }
        return problem
    }
}
