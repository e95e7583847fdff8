import CKernels

/// Filling missing numeric values (NaN after loading) with the training split's medians, as
/// scikit-learn's SimpleImputer(strategy="median") and fastai's FillMissing do.
extension ColumnEncoding {
    /// Sets each numeric column's `fill` to the median of its non-missing values in `data` (the mean
    /// of the two middle values for an even count, as numpy.median; 0 when all are missing).
    public mutating func fitFills(on data: Dataset, threads: Int = 1) {
        let numeric = columns.indices.filter { columns[$0].kind == .numeric }
        let all = offsets
        let medians = columnMedians(of: data, inputs: numeric.map { all[$0] }, threads: threads)
        for (i, m) in zip(numeric, medians) { columns[i].fill = fillValue(m) }
    }

    /// Replaces the missing (NaN) values of numeric columns in `data` with their fills.
    public func fillMissing(_ data: inout Dataset) {
        let f = data.featureCount, rows = data.rows
        let fills = zip(columns, offsets).compactMap { c, offset in c.kind == .numeric ? (offset, c.fill ?? 0) : nil }
        data.features.withUnsafeMutableBufferPointer { x in
            for r in 0..<rows {
                for (offset, fill) in fills where x[r * f + offset].isNaN { x[r * f + offset] = fill }
            }
        }
    }
}

/// What `predict` does with a missing value in a numeric column that had none in training (so the
/// model has no `_na` indicator for it): give it the column's training median, or refuse the file.
public enum MissingValuePolicy: String, CaseIterable, Sendable {
    case fill, error
}

extension ColumnEncoding {
    /// Numeric columns without indicators, filled with `medians`: how `predict` reads the features
    /// of a model without an encoding (by position) when a window has missing values.
    init(numeric names: [String], medians: [Float], naValues: [String]) {
        let columns = zip(names, medians).map { name, median in
            var column = Column(numeric: name, indicator: false)
            column.fill = median
            return column
        }
        self.init(columns: columns, target: nil, naValues: naValues)
    }
}

extension Checkpoint {
    /// The columns `predict` reads, in `forEachCSVWindow`'s `unseen` order: the encoding's, or a model's
    /// features with their medians (none stored: no fills).
    public var inputColumns: [ColumnEncoding.Column] {
        encoding?.columns ?? ColumnEncoding(numeric: featureNames, medians: featureMedians ?? [], naValues: []).columns
    }
}

/// A missing value's fill from its column's median: 0 for a column without a value.
func fillValue(_ median: Float) -> Float { median.isNaN ? 0 : median }

/// The median of each of `data`'s inputs `inputs`, NaN values left out (NaN for an input without a
/// value): `ck_column_medians`, which reads the rows in place.
func columnMedians(of data: Dataset, inputs: [Int], threads: Int) -> [Float] {
    var medians = [Float](repeating: .nan, count: inputs.count)
    let columns = inputs.map(Int64.init)
    let status = data.features.withUnsafeBufferPointer { x in
        ck_column_medians(x.baseAddress, Int64(data.rows), Int64(data.featureCount), columns, Int64(columns.count),
                          Int32(max(threads, 1)), &medians)
    }
    precondition(status == 0, "out of memory computing medians")
    return medians
}
