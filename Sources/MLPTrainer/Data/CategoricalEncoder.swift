import CKernels

/// The distinct values of one categorical column with their counts, in order of first appearance in
/// the file (the survey's merged table; its order is the same for any number of threads and any
/// chunking). Byte forms of one Swift string (canonically equivalent texts) are one value.
struct CategoryCounts {
    var values: [String] = []
    var counts: [Int] = []
    /// The byte offset of the line where each value first appears.
    var firstLineOffsets: [Int] = []
    /// Every byte form met, for the write pass's lookup.
    var spellings: [String] = []
    /// More than `maximumCategories` distinct values.
    var overflow = false

    init(_ table: ck_table_values) {
        var index: [String: Int] = [:]
        for i in 0..<Int(table.count) {
            let value = Self.text(table, i)
            spellings.append(value)
            if let j = index[value] {
                counts[j] += Int(table.counts[i])
            } else {
                index[value] = values.count
                values.append(value)
                counts.append(Int(table.counts[i]))
                firstLineOffsets.append(Int(table.first[i]))
            }
        }
        overflow = table.overflow != 0
    }

    /// Value i of a table.
    static func text(_ table: ck_table_values, _ i: Int) -> String {
        let a = Int(table.offsets[i]), b = Int(table.offsets[i + 1])
        return String(decoding: UnsafeRawBufferPointer(start: table.text + a, count: b - a), as: UTF8.self)
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
