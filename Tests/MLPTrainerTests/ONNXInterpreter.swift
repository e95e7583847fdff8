import Foundation
import ONNXProto

/// A small reference evaluator for the ONNX operators model.onnx uses, with ONNX's semantics
/// (numpy broadcasting up to rank 2, Gemm with transB, BatchNormalization in inference form, ONNX-ML's
/// OneHotEncoder with zeros=1), so
/// that tests can run an exported graph without Python. Booleans are held as 0/1 floats.
struct ONNXInterpreter {
    struct Value {
        var shape: [Int]
        var floats: [Float] = []
        var ints: [Int64] = []
        var strings: [String] = []
    }

    let graph: Onnx_GraphProto

    /// Runs the graph on `inputs`; returns every value by name (outputs and intermediates).
    func run(_ inputs: [String: Value]) throws -> [String: Value] {
        var values = inputs
        for t in graph.initializer {
            let shape = t.dims.map(Int.init)
            switch Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) {
            case .string: values[t.name] = Value(shape: shape, strings: t.stringData.map { String(decoding: $0, as: UTF8.self) })
            case .int64: values[t.name] = Value(shape: shape, ints: t.int64Data)
            default: values[t.name] = Value(shape: shape, floats: t.floatData)
            }
        }
        for node in graph.node {
            let args = try node.input.map { name -> Value in
                guard let v = values[name] else { throw ONNXTestError("\(node.name): input '\(name)' is not defined before use") }
                return v
            }
            values[node.output[0]] = try evaluate(node, args)
        }
        return values
    }

    private func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? {
        node.attribute.first { $0.name == name }
    }

    private func evaluate(_ node: Onnx_NodeProto, _ a: [Value]) throws -> Value {
        func bool(_ b: Bool) -> Float { b ? 1 : 0 }
        switch node.opType {
        case "Identity": return a[0]
        case "Relu": return map(a[0]) { max($0, 0) }
        case "LeakyRelu":
            let slope = attribute(node, "alpha")!.f
            return map(a[0]) { $0 > 0 ? $0 : $0 * slope }
        case "Sigmoid": return map(a[0]) { 1 / (1 + expf(-$0)) }
        case "Tanh": return map(a[0]) { tanhf($0) }
        case "Erf": return map(a[0]) { erff($0) }
        case "Exp": return map(a[0]) { expf($0) }
        case "Log": return map(a[0]) { logf($0) }
        case "Sqrt": return map(a[0]) { $0.squareRoot() }
        case "Abs": return map(a[0]) { abs($0) }
        case "Neg": return map(a[0]) { -$0 }
        case "Reciprocal": return map(a[0]) { 1 / $0 }
        case "Add": return zip2(a[0], a[1], +)
        case "Sub": return zip2(a[0], a[1], -)
        case "Mul": return zip2(a[0], a[1], *)
        case "Div": return zip2(a[0], a[1], /)
        case "Min": return zip2(a[0], a[1]) { $0.isNaN || $1.isNaN ? .nan : min($0, $1) }
        case "Max": return zip2(a[0], a[1]) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
        case "Equal": return zip2(a[0], a[1]) { bool($0 == $1) }
        case "Less": return zip2(a[0], a[1]) { bool($0 < $1) }
        case "LessOrEqual": return zip2(a[0], a[1]) { bool($0 <= $1) }
        case "Where": return elementwise(a) { $0[0] != 0 ? $0[1] : $0[2] }
        case "Gemm": return gemm(a[0], a[1], a[2], transB: attribute(node, "transB")?.i == 1)
        case "BatchNormalization":
            let eps = attribute(node, "epsilon")?.f ?? 1e-5
            let invstd = map(a[4]) { 1 / ($0 + eps).squareRoot() }
            return zip2(zip2(zip2(zip2(a[0], a[3], -), invstd, *), a[1], *), a[2], +)
        case "Softmax":
            return rows(a[0]) { z in
                let m = z.max()!, e = z.map { expf($0 - m) }, s = e.reduce(0, +)
                return e.map { $0 / s }
            }
        case "ArgMax":
            let k = a[0].shape[1]
            let index = (0..<a[0].shape[0]).map { r -> Int64 in
                let z = a[0].floats[(r * k)..<((r + 1) * k)]
                return Int64(z.indices.first { z[$0] == z.max()! }! - r * k)
            }
            return Value(shape: [a[0].shape[0]], ints: index)
        case "Gather": return gather(a[0], a[1], axis: Int(attribute(node, "axis")?.i ?? 0))
        case "IsNaN": return map(a[0]) { bool($0.isNaN) }
        case "Cast": return a[0]
        case "MatMul": return gemm(a[0], transpose(a[1]), Value(shape: [a[1].shape[1]], floats: .init(repeating: 0, count: a[1].shape[1])), transB: true)
        case "Concat":
            let n = a[0].shape[0], widths = a.map { $0.shape[1] }
            let floats = (0..<n).flatMap { r in a.indices.flatMap { i in a[i].floats[(r * widths[i])..<((r + 1) * widths[i])] } }
            return Value(shape: [n, widths.reduce(0, +)], floats: floats)
        case "OneHotEncoder":
            let categories = attribute(node, "cats_strings")!.strings.map { String(decoding: $0, as: UTF8.self) }
            let floats = a[0].strings.flatMap { text in categories.map { bool($0 == text) } }
            return Value(shape: a[0].shape + [categories.count], floats: floats)
        case "Reshape":
            guard a[1].ints == [-1] else { throw ONNXTestError("\(node.name): only Reshape to [-1] is in the test's interpreter") }
            return Value(shape: [a[0].floats.count], floats: a[0].floats)
        default: throw ONNXTestError("\(node.name): operator \(node.opType) is not in the test's interpreter")
        }
    }

    /// ONNX Gather on axis 0 of a 1-D table or axis 1 of a matrix; `indices` a scalar or 1-D.
    private func gather(_ data: Value, _ indices: Value, axis: Int) -> Value {
        if axis == 0 { return Value(shape: indices.shape, strings: indices.ints.map { data.strings[Int($0)] }) }
        let n = data.shape[0], k = data.shape[1]
        let picks = (0..<n).flatMap { r in indices.ints.map { r * k + Int($0) } }
        let shape = [n] + indices.shape
        return data.strings.isEmpty ? Value(shape: shape, floats: picks.map { data.floats[$0] })
                                    : Value(shape: shape, strings: picks.map { data.strings[$0] })
    }

    private func transpose(_ v: Value) -> Value {
        let r = v.shape[0], c = v.shape[1]
        return Value(shape: [c, r], floats: (0..<(r * c)).map { v.floats[($0 % r) * c + $0 / r] })
    }

    private func map(_ v: Value, _ f: (Float) -> Float) -> Value { Value(shape: v.shape, floats: v.floats.map(f)) }

    private func zip2(_ a: Value, _ b: Value, _ f: (Float, Float) -> Float) -> Value { elementwise([a, b]) { f($0[0], $0[1]) } }

    /// Elementwise over several values with numpy broadcasting, ranks 0...2.
    private func elementwise(_ values: [Value], _ f: ([Float]) -> Float) -> Value {
        let shapes = values.map { Array(repeating: 1, count: 2 - $0.shape.count) + $0.shape }
        let shape = [shapes.map { $0[0] }.max()!, shapes.map { $0[1] }.max()!]
        var out = [Float](repeating: 0, count: shape[0] * shape[1])
        var args = [Float](repeating: 0, count: values.count)
        for r in 0..<shape[0] {
            for c in 0..<shape[1] {
                for (i, s) in shapes.enumerated() { args[i] = values[i].floats[(s[0] == 1 ? 0 : r) * s[1] + (s[1] == 1 ? 0 : c)] }
                out[r * shape[1] + c] = f(args)
            }
        }
        let rank = values.map(\.shape.count).max()!
        return Value(shape: Array(shape.suffix(rank)), floats: out)
    }

    private func gemm(_ x: Value, _ w: Value, _ b: Value, transB: Bool) -> Value {
        precondition(transB)
        let n = x.shape[0], k = x.shape[1], m = w.shape[0]
        var out = [Float](repeating: 0, count: n * m)
        for r in 0..<n {
            for o in 0..<m {
                var s: Float = 0
                for i in 0..<k { s += x.floats[r * k + i] * w.floats[o * k + i] }
                out[r * m + o] = s + b.floats[o]
            }
        }
        return Value(shape: [n, m], floats: out)
    }

    private func rows(_ v: Value, _ f: ([Float]) -> [Float]) -> Value {
        let k = v.shape[1]
        return Value(shape: v.shape, floats: (0..<v.shape[0]).flatMap { f(Array(v.floats[($0 * k)..<(($0 + 1) * k)])) })
    }
}

struct ONNXTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
