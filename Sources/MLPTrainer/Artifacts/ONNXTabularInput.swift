import ONNXProto

/// The graph's inputs for a model with a column encoding (README.md, "Deploy with ONNX"): the raw
/// columns in, the network's input (before standardisation) out, exactly as `predict` encodes a CSV
/// (ColumnEncoding.swift):
/// - `features` float32 [N, numeric columns], missing values as NaN: NaN -> the column's training
///   median (IsNaN, Where), and for columns that had missing values in training the indicator
///   `<name>_na` (the mask cast to float);
/// - `categories` string [N, categorical columns], the field texts as in the CSV: one-hot by
///   ai.onnx.ml's OneHotEncoder over the column's categories (and the missing-value tokens when
///   missing is one of them), then a MatMul + Add onto the model's slots, which also sends a value
///   matching none of them to `<other>` (1 - the sum of the hot slots) when the column has that slot.
/// The pieces are concatenated in the encoding's column order.
enum ONNXTabularInput {
    static func encode(_ builder: inout ONNXGraphBuilder, _ encoding: ColumnEncoding) -> String {
        let numeric = encoding.columns.filter { $0.kind == .numeric }
        let categorical = encoding.columns.filter { $0.kind == .categorical }
        var filled = "", missing = ""
        if !numeric.isEmpty {
            builder.input("features", .float, rows: "N", columns: numeric.count,
                          doc: "The numeric feature columns in the training file's order, NaN for a missing value: "
                              + numeric.map(\.name).joined(separator: ", "))
            let isNaN: String
            (filled, isNaN) = fillMissing(&builder, fills: numeric.map { $0.fill ?? 0 })
            if numeric.contains(where: \.indicator) {
                missing = builder.node("Cast", [isNaN], "missing_indicators",
                                       attributes: [ONNXGraphBuilder.attribute("to", int: Int64(Onnx_TensorProto.DataType.float.rawValue))])
            }
        }
        if !categorical.isEmpty {
            builder.input("categories", .string, rows: "N", columns: categorical.count,
                          doc: "The categorical feature columns in the training file's order, as text: "
                              + categorical.map(\.name).joined(separator: ", "))
        }
        var pieces: [String] = [], numericIndex = 0, categoricalIndex = 0
        for column in encoding.columns {
            switch column.kind {
            case .numeric:
                let at = builder.initializer("column_index.\(column.name)", ints: [Int64(numericIndex)], shape: [1])
                pieces.append(builder.node("Gather", [filled, at], "input.\(column.name)", attributes: [ONNXGraphBuilder.attribute("axis", int: 1)]))
                if column.indicator {
                    pieces.append(builder.node("Gather", [missing, at], "missing.\(column.name)",
                                               attributes: [ONNXGraphBuilder.attribute("axis", int: 1)]))
                }
                numericIndex += 1
            case .categorical:
                pieces.append(oneHot(&builder, column, index: categoricalIndex, naValues: encoding.naValues))
                categoricalIndex += 1
            }
        }
        return pieces.count == 1 ? pieces[0] : builder.node("Concat", pieces, "encoded", attributes: [ONNXGraphBuilder.attribute("axis", int: 1)])
    }

    /// `features` with each NaN replaced by its column's fill (IsNaN, Where), and the NaN mask.
    static func fillMissing(_ builder: inout ONNXGraphBuilder, fills: [Float]) -> (filled: String, missing: String) {
        let isNaN = builder.node("IsNaN", ["features"], "features_missing")
        let values = builder.initializer("fill_values", fills, shape: [fills.count],
                                         doc: "training split's median per numeric column, for a missing value")
        return (builder.node("Where", [isNaN, values, "features"], "features_filled"), isNaN)
    }

    /// Column `index` of `categories` -> its one-hot slots [N, width].
    private static func oneHot(_ builder: inout ONNXGraphBuilder, _ column: ColumnEncoding.Column, index: Int, naValues: [String]) -> String {
        let name = column.name
        let at = builder.initializer("column_index.\(name)", ints: [Int64(index)], shape: [])
        let text = builder.node("Gather", ["categories", at], "text.\(name)", attributes: [ONNXGraphBuilder.attribute("axis", int: 1)])
        // Every text that is one of the slots' categories: the missing-value tokens count as "".
        let missingSlot = column.categories.firstIndex(of: "")
        let tokens = column.categories + (missingSlot == nil ? [] : naValues.filter { !column.categories.contains($0) })
        let raw = builder.node("OneHotEncoder", [text], "onehot.\(name)", domain: ONNXGraphBuilder.mlDomain,
                               attributes: [ONNXGraphBuilder.attribute("cats_strings", strings: tokens),
                                            ONNXGraphBuilder.attribute("zeros", int: 1)])
        // Token t -> slot: its category's, the missing slot for the tokens; the other slot gets -1
        // from every token and 1 from the bias, so it is hot exactly when no token matched.
        let width = column.width
        var slots = [Float](repeating: 0, count: tokens.count * width)
        for t in tokens.indices {
            slots[t * width + (t < column.categories.count ? t : missingSlot!)] = 1
            if column.other { slots[t * width + width - 1] = -1 }
        }
        let map = builder.initializer("slots.\(name)", slots, shape: [tokens.count, width],
                                      doc: "'\(name)': the one-hot encoder's tokens onto the model's slots")
        let bias = builder.initializer("slots_bias.\(name)", (0..<width).map { column.other && $0 == width - 1 ? 1 : 0 }, shape: [width])
        return builder.node("Add", [builder.node("MatMul", [raw, map], "slots_matmul.\(name)"), bias], "input.\(name)")
    }
}
