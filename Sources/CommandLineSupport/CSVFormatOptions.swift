import ArgumentParser
import MLPTrainer

/// How a CSV file is laid out, the same flags in `train` and `predict`.
public struct CSVFormatOptions: ParsableArguments {
    @Option(help: "Label column, by name or 0-based index (default: the last column; in predict, the training run's).")
    public var target: String?
    @Flag(help: "The first line is data, not a header (default: auto-detect).")
    public var noHeader = false
    @Option(help: ArgumentHelp("Field separator: ',', ';' or tab.", valueName: "char"))
    public var delimiter: String = ","

    public init() {}

    /// `options` with the header and delimiter flags applied (`target` is the caller's to place).
    public func apply(to options: inout CSVOptions) throws {
        if noHeader { options.hasHeader = false }
        options.delimiter = try CSVOptions.delimiter(parsing: delimiter)
    }
}
