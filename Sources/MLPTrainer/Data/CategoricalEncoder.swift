/// The distinct values of one categorical column in one chunk of a file, with their counts, in order
/// of first appearance. Chunks are counted in parallel and merged in file order, so the merged order
/// is the same for any number of threads and any chunking.
struct CategoryCounts {
    var index: [String: Int] = [:]
    var values: [String] = []
    var counts: [Int] = []

    mutating func add(_ value: String) {
        if let i = index[value] {
            counts[i] += 1
        } else {
            index[value] = values.count
            values.append(value)
            counts.append(1)
        }
    }

    var distinct: Int { values.count }

    /// The chunks' counts together, first appearances in chunk order.
    static func merged(_ chunks: [CategoryCounts]) -> CategoryCounts {
        var all = CategoryCounts()
        for chunk in chunks {
            for (value, count) in zip(chunk.values, chunk.counts) {
                if let i = all.index[value] {
                    all.counts[i] += count
                } else {
                    all.index[value] = all.values.count
                    all.values.append(value)
                    all.counts.append(count)
                }
            }
        }
        return all
    }

    /// The one-hot slots: most frequent first (ties: first appearance); with more than
    /// `maxCategories` values, the `maxCategories - 1` most frequent and an "other" slot.
    func slots(maxCategories: Int) -> (categories: [String], other: Bool) {
        let order = values.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
        if order.count <= maxCategories { return (order.map { values[$0] }, false) }
        return (order.prefix(max(maxCategories - 1, 0)).map { values[$0] }, true)
    }
}

extension ColumnEncoding.Column {
    /// Category text -> one-hot slot, for a categorical column.
    var slotIndex: [String: Int32] {
        Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, Int32($0)) })
    }

    /// The slot of categories that have none (folded or unseen), or -1 for none.
    var otherSlot: Int32 { other ? Int32(categories.count) : -1 }
}
