import Foundation
@testable import MLPTrainer

/// Reads a PyTorch fixture (Fixtures/*.json, copied from the project's shared reference data).
struct Fixture {
    let json: [String: Any]

    init(_ name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
        json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static func floats(_ value: Any?) -> [Float] {
        if let tensor = value as? [String: Any] { return floats(tensor["data"]) }
        return (value as? [Any] ?? []).map { Float(($0 as! NSNumber).doubleValue) }
    }

    func tensor(_ key: String) -> [Float] { Self.floats(json[key]) }
    func tensors(_ key: String) -> [String: [Float]] {
        (json[key] as! [String: Any]).mapValues { Self.floats($0) }
    }
    var sizes: [Int] { (json["sizes"] as! [Any]).map { ($0 as! NSNumber).intValue } }
    var labels: [Int32] { (json["y"] as! [Any]).map { Int32(($0 as! NSNumber).intValue) } }
    /// `norm` and `norm_position` (before_activation / after_activation), or the older `batchnorm`.
    var normalization: Normalization {
        guard let kind = json["norm"] as? String else { return json["batchnorm"] as! Bool ? .batch : .none }
        let position = (json["norm_position"] as! String).replacingOccurrences(of: "_", with: "-")
        return Normalization(Normalization.Kind(rawValue: kind)!, position: Normalization.Position(rawValue: position)!)
    }
}

/// The largest |a - b| / (1 + |b|) over two equally long arrays (a mixed absolute/relative error).
func maxError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
}

extension Model {
    /// Copies named tensors (parameters and buffers) into the model.
    mutating func load(_ tensors: [String: [Float]]) {
        for (name, values) in tensors {
            if let t = layout.parameter(named: name) {
                precondition(t.count == values.count, name)
                for i in 0..<t.count { parameters[t.offset + i] = values[i] }
            } else if let t = layout.buffer(named: name) {
                for i in 0..<t.count { buffers[t.offset + i] = values[i] }
            } else {
                preconditionFailure("no tensor \(name)")
            }
        }
    }

    func value(_ name: String) -> [Float] {
        if let t = layout.parameter(named: name) { return Array(parameters[t.offset..<(t.offset + t.count)]) }
        let t = layout.buffer(named: name)!
        return Array(buffers[t.offset..<(t.offset + t.count)])
    }
}
