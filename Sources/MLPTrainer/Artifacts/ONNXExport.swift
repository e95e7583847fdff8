import Foundation
import ONNXProto

/// A checkpoint as one self-contained ONNX model (model.onnx; README.md, "Deploy with ONNX"): the
/// raw feature columns in, class probabilities and labels out, with every transformation `predict`
/// applies inside the graph. The graph is built in three stages, each a function below, so that
/// later features slot in where they belong:
/// - `preprocess`: input `features` -> the network's input: for a model with a column encoding,
///   missing values filled and indicators, categorical columns one-hot (ONNXTabularInput.swift);
///   else NaN features filled with the training medians when the model stores them; then the
///   standardisation.
/// - `hiddenBlock`: Linear (Gemm), the activation (ONNXActivations.swift), the normalisation in
///   inference form (BatchNormalization today; LayerNormalization, opset 17, goes beside it);
///   dropout is the identity at inference and has no node.
/// - `classificationHead`: the output Linear, Softmax -> `probabilities`, ArgMax -> the class label
///   strings -> `label`; or `regressionHead`: the output Linear scaled back to the target's units
///   -> `prediction` float32 [N].
/// Tensors keep the checkpoint's names (`fc1.weight`, `a1.alpha`, `bn1.running_mean`, ...); each
/// node's output is named after its node (`fc1`, `a1`, `bn1`, ..., `logits`).
public enum ONNXExport {
    public static let fileName = "model.onnx"

    /// The serialised model: the same bytes for the same checkpoint.
    public static func data(_ checkpoint: Checkpoint) throws -> Data {
        try model(checkpoint).serializedBytes()
    }

    public static func model(_ checkpoint: Checkpoint) throws -> Onnx_ModelProto {
        let config = checkpoint.model.config
        var builder = ONNXGraphBuilder(name: "mlp")
        let tensors = Checkpoint.tensors(of: checkpoint.model).compactMapValues { $0.dtype == .f32 ? $0 : nil }
        for name in tensors.keys.sorted() {
            builder.initializer(name, tensors[name]!.floats, shape: tensors[name]!.shape)
        }
        var x = preprocess(&builder, checkpoint)
        for (l, width) in config.hidden.enumerated() {
            let parameters = Dictionary(uniqueKeysWithValues: config.activation.kind.parameters.map {
                ($0.name, tensors["a\(l + 1).\($0.name)"]!.floats)
            })
            x = try hiddenBlock(&builder, config, x, block: l + 1, width: width, activationParameters: parameters)
        }
        if let scaling = checkpoint.targetScaling {
            regressionHead(&builder, checkpoint, x, scaling)
        } else {
            classificationHead(&builder, checkpoint, x)
        }

        var model = Onnx_ModelProto()
        model.irVersion = ONNXGraphBuilder.irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = ONNXGraphBuilder.opset
        model.opsetImport = [opset]
        if builder.graph.node.contains(where: { $0.domain == ONNXGraphBuilder.mlDomain }) {
            var ml = Onnx_OperatorSetIdProto()
            ml.domain = ONNXGraphBuilder.mlDomain
            ml.version = 1
            model.opsetImport.append(ml)
        }
        model.producerName = "mlp-trainer"
        model.docString = documentation(checkpoint)
        model.graph = builder.graph
        model.metadataProps = checkpoint.metadata.sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return model
    }

    /// The raw inputs -> the standardised network input (`standardized`), or the encoded input itself.
    static func preprocess(_ builder: inout ONNXGraphBuilder, _ checkpoint: Checkpoint) -> String {
        let encoded: String
        if let encoding = checkpoint.encoding {
            encoded = ONNXTabularInput.encode(&builder, encoding)
        } else {
            let names = checkpoint.featureNames
            builder.input("features", .float, rows: "N", columns: names.count,
                          doc: "The numeric feature columns in the training file's order"
                              + (checkpoint.featureMedians == nil ? "" : ", NaN for a missing value") + ": \(names.joined(separator: ", "))")
            encoded = checkpoint.featureMedians.map { ONNXTabularInput.fillMissing(&builder, fills: $0).filled } ?? "features"
        }
        guard let s = checkpoint.standardizer else { return encoded }
        let mean = builder.initializer("standardize.mean", s.mean, shape: [s.mean.count], doc: "training split's mean per input")
        let std = builder.initializer("standardize.std", s.std, shape: [s.std.count], doc: "training split's population std per input")
        let centred = builder.node("Sub", [encoded, mean], "centred")
        return builder.node("Div", [centred, std], "standardized")
    }

    /// Linear -> [norm] -> activation -> [norm] of hidden block `block` (from 1), the norm in inference
    /// form on the side of the activation `config.norm.position` says.
    static func hiddenBlock(_ builder: inout ONNXGraphBuilder, _ config: ModelConfig, _ x: String, block i: Int, width: Int,
                            activationParameters: [String: [Float]]) throws -> String {
        var y = builder.node("Gemm", [x, "fc\(i).weight", "fc\(i).bias"], "fc\(i)",
                             attributes: [ONNXGraphBuilder.attribute("transB", int: 1)])
        if config.norm.position == .beforeActivation { y = normalize(&builder, config, y, block: i) }
        y = try builder.activation(config.activation, y, block: i, width: width, parameters: activationParameters)
        if config.norm.position == .afterActivation { y = normalize(&builder, config, y, block: i) }
        return y
    }

    /// BatchNorm (running statistics) or LayerNorm (over the features, opset 17) of block i, or x.
    static func normalize(_ builder: inout ONNXGraphBuilder, _ config: ModelConfig, _ x: String, block i: Int) -> String {
        let epsilon = [ONNXGraphBuilder.attribute("epsilon", float: config.normEpsilon)]
        switch config.norm.kind {
        case .batch:
            return builder.node("BatchNormalization", [x, "bn\(i).weight", "bn\(i).bias", "bn\(i).running_mean", "bn\(i).running_var"],
                                "bn\(i)", attributes: epsilon)
        case .layer:
            return builder.node("LayerNormalization", [x, "ln\(i).weight", "ln\(i).bias"], "ln\(i)",
                                attributes: epsilon + [ONNXGraphBuilder.attribute("axis", int: -1)])
        case .none:
            return x
        }
    }

    /// The output Linear -> `probabilities` (softmax) and `label` (the class label of the largest
    /// logit, the first one on ties, as `predict`).
    static func classificationHead(_ builder: inout ONNXGraphBuilder, _ checkpoint: Checkpoint, _ x: String) {
        let last = checkpoint.model.config.hidden.count + 1, labels = checkpoint.classLabels
        let logits = builder.node("Gemm", [x, "fc\(last).weight", "fc\(last).bias"], "logits",
                                  attributes: [ONNXGraphBuilder.attribute("transB", int: 1)])
        builder.node("Softmax", [logits], "probabilities", attributes: [ONNXGraphBuilder.attribute("axis", int: 1)])
        let index = builder.node("ArgMax", [logits], "class_index",
                                 attributes: [ONNXGraphBuilder.attribute("axis", int: 1), ONNXGraphBuilder.attribute("keepdims", int: 0)])
        let table = builder.initializer("class_labels", strings: labels, doc: "class labels in the order of the probabilities' columns")
        builder.node("Gather", [table, index], "label", attributes: [ONNXGraphBuilder.attribute("axis", int: 0)])
        builder.output("probabilities", .float, rows: "N", columns: labels.count,
                       doc: "class probabilities, columns in the order \(labels.joined(separator: ", "))")
        builder.output("label", .string, rows: "N", doc: "the predicted class label")
    }

    /// The graph's inputs in words.
    static func inputDocumentation(_ checkpoint: Checkpoint) -> String {
        guard let encoding = checkpoint.encoding else {
            return "features float32 [N, \(checkpoint.featureNames.count)]\(checkpoint.featureMedians == nil ? "" : " (NaN for missing)"), "
                + "columns \(checkpoint.featureNames.joined(separator: ", "))"
        }
        let numeric = encoding.columns.filter { $0.kind == .numeric }.map(\.name)
        let categorical = encoding.columns.filter { $0.kind == .categorical }.map(\.name)
        return [numeric.isEmpty ? nil : "features float32 [N, \(numeric.count)] (NaN for missing), columns \(numeric.joined(separator: ", "))",
                categorical.isEmpty ? nil : "categories string [N, \(categorical.count)], columns \(categorical.joined(separator: ", "))"]
            .compactMap { $0 }.joined(separator: "; ")
    }

    /// The output Linear (one unit) -> times the target's std, plus its mean (`predict`'s order of
    /// operations) -> `prediction` [N].
    static func regressionHead(_ builder: inout ONNXGraphBuilder, _ checkpoint: Checkpoint, _ x: String, _ scaling: TargetScaling) {
        let last = checkpoint.model.config.hidden.count + 1
        let output = builder.node("Gemm", [x, "fc\(last).weight", "fc\(last).bias"], "output",
                                  attributes: [ONNXGraphBuilder.attribute("transB", int: 1)])
        let std = builder.initializer("target.std", [scaling.std], shape: [], doc: "training rows' population std of the target")
        let mean = builder.initializer("target.mean", [scaling.mean], shape: [], doc: "training rows' mean of the target")
        let scaled = builder.node("Mul", [output, std], "times_std")
        let shifted = builder.node("Add", [scaled, mean], "plus_mean")
        let shape = builder.initializer("prediction.shape", ints: [-1], shape: [1])
        builder.node("Reshape", [shifted, shape], "prediction")
        builder.output("prediction", .float, rows: "N", doc: "the prediction in the target's units")
    }

    /// The doc string's line about the outputs.
    static func outputs(_ checkpoint: Checkpoint) -> String {
        guard checkpoint.targetScaling == nil else { return "Output: prediction float32 [N], in the target's units." }
        return "Outputs: probabilities float32 [N, \(checkpoint.model.config.classes)] and label string [N]; "
            + "classes \(checkpoint.classLabels.joined(separator: ", "))."
    }

    /// The model's doc string: the network, the classes (or the target) and the run's configuration.
    static func documentation(_ checkpoint: Checkpoint) -> String {
        let config = checkpoint.model.config
        let settings = checkpoint.runConfiguration.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return """
            MLP \(config.sizes.map(String.init).joined(separator: "-")) trained by mlp-trainer: activation \(config.activation.description) \
            (\(config.activation.perChannel ? "per channel" : "per layer")), norm \(config.norm.kind.rawValue) \(config.norm.position.rawValue), \
            standardize \(checkpoint.standardizer != nil).
            Inputs: \(inputDocumentation(checkpoint)).
            \(outputs(checkpoint))
            Training configuration: \(settings.joined(separator: " "))
            """
    }
}
