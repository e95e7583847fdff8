import CKernels
import Foundation

/// An activation function and the initial values of its learnable parameters, as given by
/// `--activation NAME[:param=value,...]`.
public struct ActivationSpec: Sendable, Equatable {
    public struct Kind: Sendable, Equatable {
        public let name: String
        let kernel: ck_activation
        /// Learnable parameters, in the kernel's order, with their default initial values and the
        /// floor the trainer keeps them above (nil: none).
        public let parameters: [(name: String, initial: Float, floor: Float?)]
        /// Parameters are one per channel whatever `--activation-params` says.
        public let alwaysPerChannel: Bool

        public static func == (a: Kind, b: Kind) -> Bool { a.name == b.name }
    }

    /// Every activation the kernels implement: names, parameters, defaults and floors all come from
    /// the kernels' activation table (CKernels.h, ARCHITECTURE.md "How to add an activation").
    public static let kinds: [Kind] = (0..<Int(CK_ACT_COUNT.rawValue)).map { index in
        let kernel = ck_activation(rawValue: UInt32(index))
        let parameters = (0..<ck_act_param_count(kernel)).map { p -> (name: String, initial: Float, floor: Float?) in
            let floor = ck_act_param_floor(kernel, p)
            return (String(cString: ck_act_param_name(kernel, p)), ck_act_param_initial(kernel, p), floor.isFinite ? floor : nil)
        }
        return Kind(name: String(cString: ck_act_name(kernel)), kernel: kernel, parameters: parameters,
                    alwaysPerChannel: ck_act_always_per_channel(kernel) != 0)
    }

    public static func named(_ name: String) -> Kind? { kinds.first { $0.name == name } }

    public let kind: Kind
    /// Initial value of each learnable parameter, in `kind.parameters` order.
    public var initialValues: [Float]
    /// One parameter per channel instead of one per layer.
    public var perChannel: Bool

    public init(kind: Kind, initialValues: [Float]? = nil, perChannel: Bool = false) {
        self.kind = kind
        self.initialValues = initialValues ?? kind.parameters.map(\.initial)
        self.perChannel = perChannel || kind.alwaysPerChannel
    }

    /// Parses "affine", "affine:alpha=0,beta=0". Errors list what exists.
    public init(parsing text: String, perChannel: Bool = false) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        guard let kind = Self.named(name) else {
            throw ConfigError("unknown activation '\(name)' (available: \(Self.kinds.map(\.name).joined(separator: ", ")))")
        }
        var values = kind.parameters.map(\.initial)
        var given: Set<Int> = []
        if parts.count == 2 {
            for assignment in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    .map { String($0).trimmingCharacters(in: .whitespaces) }
                guard let index = kind.parameters.firstIndex(where: { $0.name == kv[0] }) else {
                    let known = kind.parameters.isEmpty ? "none" : kind.parameters.map(\.name).joined(separator: ", ")
                    throw ConfigError("unknown parameter '\(kv[0])' for activation '\(name)' (parameters: \(known))")
                }
                guard kv.count == 2 else { throw ConfigError("activation parameter \(kv[0]) needs a value, like \(kv[0])=1") }
                guard given.insert(index).inserted else { throw ConfigError("activation parameter \(kv[0]) is given twice") }
                guard let value = Float(kv[1]), value.isFinite else {
                    throw ConfigError("activation parameter \(kv[0]) needs a finite number, got '\(kv[1])'")
                }
                if let floor = kind.parameters[index].floor, value < floor {
                    throw ConfigError("\(name)'s \(kv[0]) must be at least \(formatFloat(floor)), got \(kv[1])")
                }
                values[index] = value
            }
        }
        self.init(kind: kind, initialValues: values, perChannel: perChannel)
    }

    /// "affine:alpha=0,beta=1".
    public var description: String {
        let params = zip(kind.parameters, initialValues).map { "\($0.name)=\(formatFloat($1))" }
        return params.isEmpty ? kind.name : "\(kind.name):\(params.joined(separator: ","))"
    }

    public static func == (a: ActivationSpec, b: ActivationSpec) -> Bool {
        a.kind == b.kind && a.initialValues == b.initialValues && a.perChannel == b.perChannel
    }
}

/// Stored as its `--activation` text and whether the parameters are per channel.
extension ActivationSpec: Codable {
    private enum CodingKeys: String, CodingKey { case activation, perChannel = "per_channel" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(parsing: c.decode(String.self, forKey: .activation), perChannel: c.decode(Bool.self, forKey: .perChannel))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(description, forKey: .activation)
        try c.encode(perChannel, forKey: .perChannel)
    }
}

/// A configuration problem: a bad flag value or an inconsistent combination. One line for the user.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Shortest text that reads back as the same Float.
func formatFloat(_ value: Float) -> String {
    var text = "\(value)"
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text
}
