/// Which normalisation the hidden blocks have, and where it sits relative to the activation
/// (`--norm`, `--norm-position`).
public struct Normalization: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// BatchNorm1d: per channel over the batch (synchronised across shards).
        case batch
        /// LayerNorm: per row over its features.
        case layer
        case none
    }

    public enum Position: String, Sendable, CaseIterable, Codable {
        case beforeActivation = "before-activation"
        case afterActivation = "after-activation"
    }

    public var kind: Kind
    public var position: Position

    /// The defaults: BatchNorm after the activation (the seed's block), LayerNorm before it.
    public init(_ kind: Kind, position: Position? = nil) {
        self.kind = kind
        self.position = position ?? (kind == .layer ? .beforeActivation : .afterActivation)
    }

    public static let batch = Normalization(.batch)
    public static let layer = Normalization(.layer)
    public static let none = Normalization(.none)
}
