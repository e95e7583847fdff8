/// Filling missing numeric values (NaN after loading) with the training split's medians, as
/// scikit-learn's SimpleImputer(strategy="median") and fastai's FillMissing do.
extension ColumnEncoding {
    /// Sets each numeric column's `fill` to the median of its non-missing values in `data` (the mean
    /// of the two middle values for an even count, as numpy.median; 0 when all are missing).
    public mutating func fitFills(on data: Dataset) {
        let f = data.featureCount
        for (i, offset) in zip(columns.indices, offsets) where columns[i].kind == .numeric {
            var values: [Float] = []
            values.reserveCapacity(data.rows)
            data.features.withUnsafeBufferPointer { x in
                for r in 0..<data.rows where !x[r * f + offset].isNaN { values.append(x[r * f + offset]) }
            }
            columns[i].fill = median(&values) ?? 0
        }
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

/// The median of `values` (reordered in place), or nil when empty.
func median(_ values: inout [Float]) -> Float? {
    guard !values.isEmpty else { return nil }
    let n = values.count
    return values.withUnsafeMutableBufferPointer { v in
        let upper = select(v, n / 2)
        if n % 2 == 1 { return upper }
        // The lower middle is the largest of the values left of n / 2.
        let lower = v[0..<(n / 2)].max()!
        return Float((Double(lower) + Double(upper)) / 2)
    }
}

/// Quickselect: reorders `v` so that v[k] is the k-th smallest and everything left of it is <= it.
private func select(_ v: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
    var lo = 0, hi = v.count - 1
    while lo < hi {
        let pivot = v[(lo + hi) / 2]
        var i = lo, j = hi
        while i <= j {
            while v[i] < pivot { i += 1 }
            while v[j] > pivot { j -= 1 }
            if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
        }
        if k <= j { hi = j } else if k >= i { lo = i } else { break }
    }
    return v[k]
}
