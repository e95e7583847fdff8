import CKernels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The binary cache of a parsed CSV file (`CSVOptions.cache`): three files next to the CSV (or in
/// `cacheDirectory`, then with a hash of the CSV's absolute path in the names):
/// - `NAME.features.npy`: float32 [rows, features], NumPy format 1.0, little endian, C order;
/// - `NAME.labels.npy`: int32 [rows], class indices;
/// - `NAME.cache.json`: feature names, class labels, the source's fingerprint (size, mtime and a
///   hash of its bytes, `FileFingerprint`), the options that shape the result, the line where
///   each class first appears, and for a file with string columns or blanks its column encoding
///   (missing numbers stay NaN in the matrix, as the loader returns them) and the loader's notes.
/// The JSON is written last and each file goes to a temporary name first and is renamed, so a reader
/// sees a complete cache or none. A cache is used only when the source's fingerprint and the
/// options match; otherwise the CSV is parsed again and the cache rewritten.
enum CSVCache {
    struct Meta: Codable, Equatable {
        var version: Int
        var source: FileFingerprint
        var options: String
        var rows: Int
        var features: Int
        var invalidRows: Int
        var featureNames: [String]
        var classLabels: [String]
        var classFirstLines: [Int]
        var encoding: ColumnEncoding?
        var notes: [String]

        enum CodingKeys: String, CodingKey {
            case version, source, options, rows, features, encoding, notes
            case invalidRows = "invalid_rows"
            case featureNames = "feature_names", classLabels = "class_labels", classFirstLines = "class_first_lines"
        }
    }

    struct Loaded {
        var dataset: Dataset
        var invalidRows: Int
        var firstLines: [Int]
        var notes: [String]
    }

    /// Raised when the same file and flags would load differently (4: a header-less file whose first
    /// row ends with a blank value keeps that column, `CSVLayout.endOfMostlyFilled`).
    static let version = 4

    /// The path prefix of the cache files of `source`.
    static func base(source: FileFingerprint, options: CSVOptions) -> String {
        let abs = source.path
        let name = (abs as NSString).lastPathComponent
        if let dir = options.cacheDirectory {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in abs.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return dir + "/" + name + "-" + String(h >> 32, radix: 16)
        }
        return PathParent.of(abs) + "/" + name
    }

    /// Everything in the options that changes the parsed result.
    static func fingerprint(_ o: CSVOptions) -> String {
        let header = o.hasHeader.map { $0 ? "yes" : "no" } ?? "auto"
        return "header=\(header);delimiter=\(o.delimiter);target=\(o.noTarget ? "<none>" : o.target ?? "<last>");"
            + "drop=\(o.dropInvalidRows);nonfinite=\(o.allowNonFinite);columns=\(columnsText(o.columns))"
    }

    private static func columnsText(_ columns: ColumnOptions) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(columns)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func load(source: FileFingerprint, options: CSVOptions) -> Loaded? {
        let base = base(source: source, options: options)
        guard let json = FileManager.default.contents(atPath: base + ".cache.json"),
              let meta = try? JSONDecoder().decode(Meta.self, from: json),
              meta.version == version, meta.source == source, meta.options == fingerprint(options),
              meta.featureNames.count == meta.features, meta.classFirstLines.count == meta.classLabels.count
        else { return nil }
        guard let features: [Float] = readNPY(base + ".features.npy", descr: "<f4", shape: [meta.rows, meta.features],
                                              threads: options.threads),
              let labels: [Int32] = readNPY(base + ".labels.npy", descr: "<i4", shape: [meta.rows], threads: options.threads)
        else { return nil }
        let classes = Int32(meta.classLabels.count)
        if labels.contains(where: { $0 < 0 || $0 >= classes }) { return nil }
        var dataset = Dataset(features: features, labels: labels, featureNames: meta.featureNames,
                              classLabels: meta.classLabels)
        dataset.encoding = meta.encoding
        return Loaded(dataset: dataset, invalidRows: meta.invalidRows, firstLines: meta.classFirstLines, notes: meta.notes)
    }

    /// Writes the cache; failures are ignored (the cache is an optimisation).
    static func store(dataset: Dataset, invalidRows: Int, firstLines: [Int], notes: [String], source: FileFingerprint,
                      options: CSVOptions) {
        let base = base(source: source, options: options)
        if let dir = options.cacheDirectory {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let meta = Meta(version: version, source: source, options: fingerprint(options), rows: dataset.rows,
                        features: dataset.featureCount, invalidRows: invalidRows, featureNames: dataset.featureNames,
                        classLabels: dataset.classLabels, classFirstLines: firstLines, encoding: dataset.encoding, notes: notes)
        guard writeNPY(base + ".features.npy", descr: "<f4", shape: [dataset.rows, dataset.featureCount], dataset.features),
              writeNPY(base + ".labels.npy", descr: "<i4", shape: [dataset.rows], dataset.labels)
        else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let json = try? encoder.encode(meta) else { return }
        try? AtomicFile.write(json, to: base + ".cache.json")
    }

    // MARK: - Files

    static func readAll(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int, offset: Int) -> Bool {
        var done = 0
        while done < n {
            let r = pread(fd, p + done, min(n - done, 1 << 30), off_t(offset + done))
            if r < 0 { if errno == EINTR { continue }; return false }
            if r == 0 { return false }
            done += r
        }
        return true
    }

    static func npyHeader(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + dict + '\n', padded with spaces to 64 bytes.
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = dict.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(dict.utf8)
    }

    static func writeNPY<T>(_ path: String, descr: String, shape: [Int], _ values: [T]) -> Bool {
        let header = npyHeader(descr: descr, shape: shape)
        return (try? AtomicFile.write(to: path) { file in
            try file.write(contentsOf: header)
            try values.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                try file.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
            }
        }) != nil
    }

    /// Reads a .npy file written by writeNPY (or NumPy) with exactly this dtype and shape, straight
    /// into the array's storage; nil when it is missing or different.
    /// Reads an .npy file straight into the array, in `threads` parallel slices (the copy from the
    /// page cache and the first touch of the array's pages are the cost).
    static func readNPY<T>(_ path: String, descr: String, shape: [Int], threads: Int) -> [T]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 10)
        guard head.withUnsafeMutableBytes({ readAll(fd, $0.baseAddress!, 10, offset: 0) }),
              head[0] == 0x93, Array(head[1..<6]) == Array("NUMPY".utf8), head[6] == 1
        else { return nil }
        let n = Int(head[8]) | Int(head[9]) << 8
        var dictBytes = [UInt8](repeating: 0, count: n)
        guard dictBytes.withUnsafeMutableBytes({ readAll(fd, $0.baseAddress!, n, offset: 10) }) else { return nil }
        let dict = String(decoding: dictBytes, as: UTF8.self).replacingOccurrences(of: " ", with: "")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ",") + ")"
        guard dict.contains("'descr':'\(descr)'"), dict.contains("'fortran_order':False"),
              dict.contains("'shape':\(shapeText)") else { return nil }
        let count = shape.reduce(1, *)
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) == 10 + n + count * MemoryLayout<T>.stride else { return nil }
        let bytes = count * MemoryLayout<T>.stride
        let slices = bytes >= 1 << 24 ? max(1, threads) : 1
        let failed = UnsafeMutablePointer<Bool>.allocate(capacity: slices)
        failed.initialize(repeating: false, count: slices)
        defer { failed.deallocate() }
        let values = [T](unsafeUninitializedCapacity: max(count, 1)) { buf, initialized in
            // Each slice writes only its own bytes and its own flag.
            nonisolated(unsafe) let base = UnsafeMutableRawPointer(buf.baseAddress!)
            nonisolated(unsafe) let failed = failed
            DispatchQueue.concurrentPerform(iterations: slices) { i in
                let begin = bytes * i / slices, end = bytes * (i + 1) / slices
                failed[i] = end > begin && !readAll(fd, base + begin, end - begin, offset: 10 + n + begin)
            }
            initialized = (0..<slices).contains { failed[$0] } ? 0 : count
        }
        return values.count == count ? values : nil
    }
}
