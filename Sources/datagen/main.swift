// datagen: writes a synthetic classification CSV of any size, for benchmarks and for trying the
// trainer without data. Values and labels come from MLPTrainer's SyntheticProblem (classes balanced,
// or in the shares --class-weights asks for), so a file with --format higgs (exact %.18e of each
// float; labels are integers in every format) loads to the trainer's built-in synthetic set.
// --task regression writes a continuous target instead (SyntheticProblem.target).
//
//   swift run -c release datagen --rows 500000 --features 28 --label first --no-header --out /tmp/higgs.csv
import ArgumentParser
import CKernels
import CommandLineSupport
import Dispatch
import Foundation
import MLPTrainer

/// Per-thread output buffers and their lengths, shared with the formatting threads (each touches
/// only its own slot).
struct BlockBuffers: @unchecked Sendable {
    let buffers: [UnsafeMutablePointer<CChar>]
    let lengths: UnsafeMutablePointer<Int>
}

struct Datagen: ToolCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic classification (or regression) CSV (SyntheticProblem values and labels).")

    enum LabelPosition: String, ExpressibleByArgument { case first, last }
    enum Format: String, ExpressibleByArgument {
        case higgs  // every feature as printf("%.18e"), like the UCI HIGGS file
        case short  // shortest text that reads back to the same float
    }

    @Option(help: "Number of rows.") var rows: Int
    @Option(help: "Number of features.") var features: Int = 28
    @Option(help: "Number of classes (integer labels 0..classes-1).") var classes: Int = 2
    @Option(help: "classification (integer labels) or regression (a continuous target in the label column).")
    var task: LearningTask.Name = .classification
    @Option(help: "Class shares in proportion to these weights, one per class, e.g. 1,1,8 (default: equal shares).",
            transform: Datagen.weights)
    var classWeights: [Double]?
    @Option(help: "Seed of the synthetic problem.") var seed: UInt64 = 1
    @Option(help: "Label column: first or last.") var label: LabelPosition = .last
    @Flag(inversion: .prefixedNo, help: "Write a header line (label, x1..xF).") var header: Bool = true
    @Option(help: "Number format: higgs (%.18e) or short.") var format: Format = .higgs
    @Option(help: "Output file (written atomically: a temporary file renamed at the end).") var out: String
    @Flag(help: "Replace --out when it already exists.") var force = false
    @Option(help: "String columns c1..cN after the numbers, whose values (v0, v1, ...) depend on the label.")
    var categorical: Int = 0
    @Option(help: "Distinct values of each --categorical column.") var cardinality: Int = 8
    @Option(help: ArgumentHelp("How often each value of a --categorical column appears: uniform (each class has one value "
                                   + "of its own) or zipf (value k about as often as 1/(k+1), each value tied to a class).",
                               valueName: "uniform|zipf"))
    var categoryFrequency: SyntheticProblem.CategoryFrequency = .uniform
    @Option(help: "Fraction of feature fields left blank (missing values).") var missing: Double = 0
    @Option(help: "Threads formatting row blocks.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard rows >= 0, features >= 1, (2...Self.maxClasses).contains(classes), threads >= 1 else {
            throw ValidationError("need rows >= 0, features >= 1, classes 2...\(Self.maxClasses), threads >= 1")
        }
        if let classWeights, classWeights.count != classes {
            throw ValidationError("--class-weights has \(classWeights.count) weights for \(classes) classes")
        }
        guard categorical >= 0, cardinality >= 1, missing >= 0, missing < 1 else {
            throw ValidationError("need --categorical >= 0, --cardinality >= 1, --missing in [0, 1)")
        }
        try ThreadLimit.check(threads)
        // The problem's coefficients (2 doubles per feature and class) and a block of lines per thread.
        let coefficients = ModelValidation.checkedProduct([features, classes, 16])
        let lines = ModelValidation.checkedProduct([features + 1, 32, 4096, threads])
        try MemoryBudget.require(coefficients.flatMap { c in lines.flatMap { ModelValidation.checkedSum([c, $0]) } }, for: "--features \(features) --classes \(classes)")
    }

    /// The balancing sample (SyntheticProblem.balanceRows) needs many rows per class; labels are
    /// then at most two digits.
    static let maxClasses = 64

    static func weights(_ text: String) throws -> [Double] {
        let weights = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard weights.allSatisfy({ $0.map { $0 > 0 && $0.isFinite } ?? false }) else {
            throw ValidationError("--class-weights: need positive numbers separated by commas, got '\(text)'")
        }
        return weights.map { $0! }
    }

    func run() throws {
        try OutputPath.check(out, flag: "--out", inputs: [], overwrite: force, overwriteFlag: "--force")
        let start = DispatchTime.now().uptimeNanoseconds
        let problem = SyntheticProblem(features: features, classes: classes, seed: seed, classWeights: classWeights)
        var total = 0
        try AtomicFile.write(to: out) { file in total = try writeRows(problem, to: file) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var attributes = stat()
        let bytes = stat(out, &attributes) == 0 ? Int(attributes.st_size) : total
        let kind = task == .regression ? "a continuous target" : "\(classes) classes"
        let line = String(format: "datagen: %d rows x %d features, %@ -> %@ (%.1f MB) in %.2f s, %.0f MB/s\n",
                          rows, features, kind, out, Double(bytes) / 1e6, seconds, Double(bytes) / seconds / 1e6)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    /// Writes the header and the rows to `file`; returns the bytes written.
    func writeRows(_ problem: SyntheticProblem, to file: FileHandle) throws -> Int {
        var total = 0
        if header {
            let line = headerLine()
            try file.write(contentsOf: Data(line.utf8))
            total += line.utf8.count
        }
        let formatter = RowFormatter(problem: problem, features: features, categorical: categorical, cardinality: cardinality,
                                     frequency: categoryFrequency, missing: missing, labelFirst: label == .first, higgs: format == .higgs,
                                     regression: task == .regression)
        // Row blocks are formatted in parallel, `threads` at a time, and written in order.
        let blockRows = 4096
        let blocks = (rows + blockRows - 1) / blockRows
        let buffers = (0..<threads).map { _ in UnsafeMutablePointer<CChar>.allocate(capacity: blockRows * formatter.maxLineBytes) }
        defer { buffers.forEach { $0.deallocate() } }
        let shared = BlockBuffers(buffers: buffers, lengths: .allocate(capacity: threads))
        defer { shared.lengths.deallocate() }
        for first in stride(from: 0, to: blocks, by: threads) {
            let count = min(threads, blocks - first)
            let rows = self.rows
            DispatchQueue.concurrentPerform(iterations: count) { k in
                let block = first + k
                shared.lengths[k] = formatter.format(rows: block * blockRows..<min(rows, (block + 1) * blockRows), into: shared.buffers[k])
            }
            for k in 0..<count {
                try file.write(contentsOf: UnsafeRawBufferPointer(start: buffers[k], count: shared.lengths[k]))
                total += shared.lengths[k]
            }
        }
        return total
    }

    /// The column names: x1..xF, then c1..cN, with the label first or last.
    func headerLine() -> String {
        let names = (1...features).map { "x\($0)" } + (0..<categorical).map { "c\($0 + 1)" }
        return (label == .first ? ["label"] + names : names + ["label"]).joined(separator: ",") + "\n"
    }
}

extension LearningTask.Name: ExpressibleByArgument {}
extension SyntheticProblem.CategoryFrequency: ExpressibleByArgument {}

Datagen.main()
