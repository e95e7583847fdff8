import Foundation

/// A model with what is needed to use it on new data: class labels, feature names and the
/// standardisation, saved as safetensors with tensor names of the seed's PyTorch module
/// (`fc1.weight`, `bn1.running_mean`, `a1.alpha`, ...) and string metadata.
public struct Checkpoint: Sendable {
    public var model: Model
    public var classLabels: [String]
    public var featureNames: [String]
    public var standardizer: Standardizer?
    /// Regression's target standardisation (`target_mean`, `target_std`); nil for classification.
    public var targetScaling: TargetScaling?
    /// How a tabular file's columns become the inputs (stored as `column_encoding`, JSON).
    public var encoding: ColumnEncoding?
    /// A model without an encoding: each feature's training median (`feature_medians`), the value
    /// `predict` gives a missing one; nil in files written before it was stored.
    public var featureMedians: [Float]?
    /// The run's configuration, stored as `config` (a JSON object) in the metadata.
    public var runConfiguration: [String: String]

    public init(model: Model, classLabels: [String], featureNames: [String], standardizer: Standardizer?,
                targetScaling: TargetScaling? = nil, encoding: ColumnEncoding? = nil, featureMedians: [Float]? = nil,
                runConfiguration: [String: String] = [:]) {
        self.targetScaling = targetScaling
        self.encoding = encoding
        self.featureMedians = featureMedians
        self.model = model
        self.classLabels = classLabels
        self.featureNames = featureNames
        self.standardizer = standardizer
        self.runConfiguration = runConfiguration
    }

    /// Every tensor by name: parameters and buffers as F32 (0-dim for per-layer scalars), the batch
    /// counters (`bn{i}.num_batches_tracked`) as I64.
    public static func tensors(of model: Model) -> [String: Safetensors.Tensor] {
        var tensors: [String: Safetensors.Tensor] = [:]
        let layout = model.layout
        for t in layout.parameters {
            tensors[t.name] = .init(floats: Array(model.parameters[t.offset..<(t.offset + t.count)]), shape: t.shape)
        }
        for t in layout.buffers {
            tensors[t.name] = .init(floats: Array(model.buffers[t.offset..<(t.offset + t.count)]), shape: t.shape)
        }
        for name in layout.counters { tensors[name] = .init(int64: model.batchesTracked) }
        return tensors
    }

    public var metadata: [String: String] {
        let config = model.config
        var meta: [String: String] = [
            "format": "mlp-trainer/1",
            "inputs": String(config.inputs),
            "hidden": config.hidden.map(String.init).joined(separator: ","),
            "classes": String(config.classes),
            "activation": config.activation.description,
            "activation_params": config.activation.perChannel ? "channel" : "scalar",
            "norm": config.norm.kind.rawValue,
            "norm_position": config.norm.position.rawValue,
            "dropout": formatFloat(config.dropout),
            "class_labels": jsonText(classLabels),
            "feature_names": jsonText(featureNames),
            "standardize": String(standardizer != nil),
        ]
        if let s = standardizer {
            meta["standardize_mean"] = jsonText(s.mean.map(Double.init))
            meta["standardize_std"] = jsonText(s.std.map(Double.init))
        }
        if let loss = config.task.regressionLoss {
            meta["task"] = config.task.name
            meta["loss"] = loss.rawValue
        }
        if let t = targetScaling {
            meta["target_mean"] = jsonText(Double(t.mean))
            meta["target_std"] = jsonText(Double(t.std))
        }
        if let encoding { meta["column_encoding"] = jsonText(encoding) }
        if let featureMedians { meta["feature_medians"] = jsonText(featureMedians.map(Double.init)) }
        if !runConfiguration.isEmpty { meta["config"] = jsonText(runConfiguration) }
        return meta
    }

    public func save(to path: String) throws {
        try AtomicFile.write(Safetensors.encode(Self.tensors(of: model), metadata: metadata), to: path)
    }

    public static func read(path: String) throws -> (tensors: [String: Safetensors.Tensor], metadata: [String: String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ArtifactError("\(path): no such file") }
        guard !isDirectory.boolValue else { throw ArtifactError("\(path): is a directory, not a model file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ArtifactError("\(path): cannot read") }
        return try Safetensors.decode(data, source: path)
    }

    /// The feature names and class labels a file written by `save` records; nil for a file without
    /// them (a PyTorch state dict).
    static func recordedNames(_ meta: [String: String], path: String) throws -> (features: [String], classes: [String])? {
        guard let features = meta["feature_names"], let classes = meta["class_labels"] else { return nil }
        return (try decodeJSON(features, path), try decodeJSON(classes, path))
    }

    /// A checkpoint written by `save` (the architecture comes from its metadata).
    public static func load(path: String) throws -> Checkpoint {
        let (tensors, meta) = try read(path: path)
        return try load(path: path, tensors: tensors, metadata: meta)
    }

    static func load(path: String, tensors: [String: Safetensors.Tensor], metadata meta: [String: String]) throws -> Checkpoint {
        func field(_ key: String) throws -> String {
            guard let value = meta[key] else { throw ArtifactError("\(path): metadata has no '\(key)' (not written by train?)") }
            return value
        }
        guard let inputs = Int(try field("inputs")), let classes = Int(try field("classes")),
              let dropout = Float(try field("dropout")) else { throw ArtifactError("\(path): malformed metadata") }
        let hidden = try field("hidden").split(separator: ",").map { part -> Int in
            guard let width = Int(part) else { throw ArtifactError("\(path): malformed metadata 'hidden'") }
            return width
        }
        let activation = try ActivationSpec(parsing: try field("activation"), perChannel: try field("activation_params") == "channel")
        var config = ModelConfig(inputs: inputs, hidden: hidden, classes: classes, activation: activation,
                                 norm: try normalization(meta, path), dropout: dropout)
        guard let task = LearningTask(name: meta["task"], loss: meta["loss"]) else { throw ArtifactError("\(path): malformed metadata 'task'") }
        config.task = task
        try ModelValidation.checkNetwork(config, tensorBytes: tensors.values.reduce(0) { $0 + $1.bytes.count }, source: path)
        var model = Model(config: config, seed: 0)
        try assign(tensors, to: &model, source: path)
        let classLabels: [String] = try decodeJSON(try field("class_labels"), path)
        let featureNames: [String] = try decodeJSON(try field("feature_names"), path)
        var standardizer: Standardizer?
        if meta["standardize"] == "true" {
            let mean: [Double] = try decodeJSON(try field("standardize_mean"), path)
            let std: [Double] = try decodeJSON(try field("standardize_std"), path)
            standardizer = Standardizer(mean: mean.map(Float.init), std: std.map(Float.init))
        }
        var targetScaling: TargetScaling?
        if task.isRegression {
            let mean: Double = try decodeJSON(try field("target_mean"), path)
            let std: Double = try decodeJSON(try field("target_std"), path)
            targetScaling = TargetScaling(mean: Float(mean), std: Float(std))
        }
        let run: [String: String] = (try? decodeJSON(meta["config"] ?? "{}", path)) ?? [:]
        let encoding: ColumnEncoding? = try meta["column_encoding"].map { try decodeJSON($0, path) }
        if let encoding, encoding.inputNames != featureNames {
            throw ArtifactError("\(path): metadata 'column_encoding' does not match 'feature_names'")
        }
        let medians: [Double]? = try meta["feature_medians"].map { try decodeJSON($0, path) }
        let checkpoint = Checkpoint(model: model, classLabels: classLabels, featureNames: featureNames, standardizer: standardizer,
                                    targetScaling: targetScaling, encoding: encoding, featureMedians: medians?.map(Float.init),
                                    runConfiguration: run)
        try ModelValidation.checkDescription(checkpoint, source: path)
        return checkpoint
    }

    /// Copies every tensor the model has from `tensors`; a missing tensor or a shape mismatch is an
    /// error naming the tensor. Tensors the model does not have are an error too (a different net).
    public static func assign(_ tensors: [String: Safetensors.Tensor], to model: inout Model, source: String) throws {
        let expected = Self.tensors(of: model)
        for name in expected.keys.sorted() {
            guard let t = tensors[name] else { throw ArtifactError("\(source): tensor '\(name)' is missing") }
            let want = expected[name]!
            guard t.dtype == want.dtype, t.shape == want.shape else {
                throw ArtifactError("\(source): tensor '\(name)' has \(t.dtype.rawValue) \(t.shape), expected \(want.dtype.rawValue) \(want.shape)")
            }
        }
        if let extra = tensors.keys.sorted().first(where: { expected[$0] == nil }) {
            throw ArtifactError("\(source): tensor '\(extra)' does not belong to this network")
        }
        let layout = model.layout
        for t in layout.parameters { model.parameters.replaceSubrange(t.offset..<(t.offset + t.count), with: tensors[t.name]!.floats) }
        for t in layout.buffers { model.buffers.replaceSubrange(t.offset..<(t.offset + t.count), with: tensors[t.name]!.floats) }
        if let counter = layout.counters.first { model.batchesTracked = tensors[counter]?.int64Value ?? 0 }
    }

    /// `norm` and `norm_position`; files from before LayerNorm say `batchnorm: true|false`.
    private static func normalization(_ meta: [String: String], _ path: String) throws -> Normalization {
        guard let kindText = meta["norm"] else { return meta["batchnorm"] == "true" ? .batch : .none }
        guard let kind = Normalization.Kind(rawValue: kindText),
              let position = Normalization.Position(rawValue: meta["norm_position"] ?? "") else {
            throw ArtifactError("\(path): malformed metadata 'norm'")
        }
        return Normalization(kind, position: position)
    }
}

func jsonText<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
}

private func decodeJSON<T: Decodable>(_ text: String, _ source: String) throws -> T {
    do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
        throw ArtifactError("\(source): malformed metadata value \(text.prefix(60))")
    }
}
