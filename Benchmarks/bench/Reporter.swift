import Foundation

/// Prints a subcommand's output: the machine line and table lines for a person, or with --json one
/// JSON object per result, {"bench": ..., "machine": {...}, result's fields (snake_case)}.
struct Reporter {
    let bench: String
    let json: Bool
    /// Read when the subcommand starts: a sweep over instruction sets (`bench gemm`) switches the
    /// active kernels while it runs and restores the best ones after.
    let machine: Machine

    init(bench: String, options: BenchOptions) {
        self.bench = bench
        json = options.json
        machine = Machine.current
        if !json { print(machine.line) }
    }

    /// A line of the table (nothing with --json).
    func line(_ text: String) {
        if !json { print(text) }
    }

    /// One result: its JSON object with --json, else its table line.
    func result<Fields: Encodable>(_ fields: Fields, line text: String) {
        json ? record(fields) : print(text)
    }

    /// One result's JSON object with --json (for results whose table line holds several).
    func record<Fields: Encodable>(_ fields: Fields) {
        guard json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try! encoder.encode(Record(bench: bench, machine: machine, fields: fields))
        print(String(decoding: data, as: UTF8.self))
    }

    /// The result's fields flattened into one object beside "bench" and "machine".
    private struct Record<Fields: Encodable>: Encodable {
        var bench: String
        var machine: Machine
        var fields: Fields
        enum Keys: String, CodingKey { case bench, machine }

        func encode(to encoder: Encoder) throws {
            try fields.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(bench, forKey: .bench)
            try container.encode(machine, forKey: .machine)
        }
    }
}

extension String {
    /// Right-aligned in `width` columns.
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    /// Left-aligned in `width` columns.
    func rightPadded(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// `%.<digits>f`, right-aligned in `width` columns.
func fixed(_ value: Double, _ width: Int, _ digits: Int = 1) -> String {
    String(format: "%.\(digits)f", value).leftPadded(width)
}
