import Foundation
import ONNXProto

/// Builds an ONNX graph node by node: named initializers, nodes whose output tensor carries the
/// node's own name, scalar constants shared by name, and two accurate composites (expm1, ln(u)/(u - 1))
/// that ONNX lacks as operators. Every op used is in the default domain, opset `ONNXGraphBuilder.opset`,
/// but OneHotEncoder (`mlDomain`).
struct ONNXGraphBuilder {
    /// Opset 17 (ONNX 1.12, IR version 8): every operator used here exists there unchanged, and
    /// runtimes from 2022 on read it.
    static let opset: Int64 = 17
    static let irVersion: Int64 = 8
    /// ONNX-ML's domain (OneHotEncoder for categorical columns), at its opset 1.
    static let mlDomain = "ai.onnx.ml"

    private(set) var graph = Onnx_GraphProto()
    private var scalars: Set<String> = []

    init(name: String) { graph.name = name }

    // MARK: - Initializers and values

    /// A float initializer (a 0-dim tensor when `shape` is empty); returns its name.
    @discardableResult
    mutating func initializer(_ name: String, _ values: [Float], shape: [Int], doc: String = "") -> String {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.floatData = values
        if !doc.isEmpty { tensor.docString = doc }
        graph.initializer.append(tensor)
        return name
    }

    /// An int64 initializer (indices); returns its name.
    @discardableResult
    mutating func initializer(_ name: String, ints: [Int64], shape: [Int]) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.int64Data = ints
        graph.initializer.append(tensor)
        return name
    }

    /// A 1-D string initializer; returns its name.
    @discardableResult
    mutating func initializer(_ name: String, strings: [String], doc: String = "") -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dataType = Int32(Onnx_TensorProto.DataType.string.rawValue)
        tensor.dims = [Int64(strings.count)]
        tensor.stringData = strings.map { Data($0.utf8) }
        if !doc.isEmpty { tensor.docString = doc }
        graph.initializer.append(tensor)
        return name
    }

    /// A shared 0-dim float constant named `name` (e.g. "one"), created on first use.
    mutating func scalar(_ name: String, _ value: Float) -> String {
        if scalars.insert(name).inserted { initializer(name, [value], shape: []) }
        return name
    }

    /// Declares a graph input of `elementType`: [rows] or [rows, columns], rows symbolic.
    mutating func input(_ name: String, _ elementType: Onnx_TensorProto.DataType, rows: String, columns: Int? = nil, doc: String) {
        graph.input.append(Self.value(name, elementType, rows: rows, columns: columns, doc: doc))
    }

    /// Declares a graph output, as `input` does an input.
    mutating func output(_ name: String, _ elementType: Onnx_TensorProto.DataType, rows: String, columns: Int? = nil, doc: String) {
        graph.output.append(Self.value(name, elementType, rows: rows, columns: columns, doc: doc))
    }

    private static func value(_ name: String, _ elementType: Onnx_TensorProto.DataType, rows: String, columns: Int? = nil,
                      doc: String) -> Onnx_ValueInfoProto {
        var rowDimension = Onnx_TensorShapeProto.Dimension()
        rowDimension.dimParam = rows
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(elementType.rawValue)
        tensorType.shape.dim = [rowDimension]
        if let columns {
            var columnDimension = Onnx_TensorShapeProto.Dimension()
            columnDimension.dimValue = Int64(columns)
            tensorType.shape.dim.append(columnDimension)
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        info.docString = doc
        return info
    }

    // MARK: - Nodes

    /// Appends `op(inputs)` as a node named `name` whose one output is also `name`; returns it.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ name: String, domain: String = "",
                       attributes: [Onnx_AttributeProto] = []) -> String {
        var node = Onnx_NodeProto()
        node.opType = op
        node.domain = domain
        node.name = name
        node.input = inputs
        node.output = [name]
        node.attribute = attributes
        graph.node.append(node)
        return name
    }

    static func attribute(_ name: String, int: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = int
        return a
    }

    static func attribute(_ name: String, strings: [String]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .strings
        a.strings = strings.map { Data($0.utf8) }
        return a
    }

    static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = float
        return a
    }

    // MARK: - Composites

    /// expm1(t) without cancellation near 0 (Kahan's trick): with u = exp(t) rounded,
    /// (u - 1) t / ln(u), exactly t where u == 1 and -1 where u - 1 == -1. Node names start with `prefix`.
    mutating func expm1(_ t: String, _ prefix: String) -> String {
        let one = scalar("one", 1), minusOne = scalar("minus_one", -1), name = "\(prefix).expm1"
        let u = node("Exp", [t], "\(name).exp")
        let um1 = node("Sub", [u, one], "\(name).exp_minus_one")
        let ratio = node("Div", [t, node("Log", [u], "\(name).log_exp")], "\(name).t_over_log")
        let corrected = node("Mul", [um1, ratio], "\(name).kahan")
        let nearZero = node("Where", [node("Equal", [u, one], "\(name).exp_is_one"), t, corrected], "\(name).near_zero")
        return node("Where", [node("Equal", [um1, minusOne], "\(name).underflow"), minusOne, nearZero], name)
    }

    /// ln(u) / (u - 1), and 1 where u == 1: with u = 1 - w rounded this is -ln(1 - w) / w without
    /// cancellation for small |w| (Kahan's trick again). Node names start with `prefix`.
    mutating func logRatio(_ u: String, _ prefix: String) -> String {
        let one = scalar("one", 1), name = "\(prefix).log_ratio"
        let ratio = node("Div", [node("Log", [u], "\(name).log_u"), node("Sub", [u, one], "\(name).u_minus_one")], "\(name).kahan")
        return node("Where", [node("Equal", [u, one], "\(name).u_is_one"), one, ratio], name)
    }
}
