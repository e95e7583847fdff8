import Foundation
import MLPTrainer

/// Metadata values of a valid model replaced by the input's lines ("key<TAB>value"), so the fuzzer
/// works on the JSON and number texts inside the metadata rather than on the file's framing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetadata(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var metadata = base.metadata
    for line in String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self).split(separator: "\n") {
        let kv = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
        metadata[String(kv[0])] = kv.count == 2 ? String(kv[1]) : nil
    }
    let path = NSTemporaryDirectory() + "fuzz-metadata-\(getpid()).safetensors"
    guard let data = try? Safetensors.encode(Checkpoint.tensors(of: base.model), metadata: metadata) else { return 0 }
    precondition(FileManager.default.createFile(atPath: path, contents: data), "cannot write \(path)")
    defer { unlink(path) }
    if let checkpoint = try? Checkpoint.load(path: path) {
        precondition(checkpoint.classLabels.count == checkpoint.model.config.classes)
        precondition(checkpoint.featureNames.count == checkpoint.model.config.inputs)
    }
    return 0
}

/// A small valid model (2 inputs, one hidden block of 3, 2 classes, standardised).
let base: Checkpoint = {
    let config = ModelConfig(inputs: 2, hidden: [3], classes: 2, activation: ActivationSpec(kind: ActivationSpec.named("srelu")!),
                             norm: .batch, dropout: 0.1)
    return Checkpoint(model: Model(config: config, seed: 1), classLabels: ["a", "b"], featureNames: ["x", "y"],
                      standardizer: Standardizer(mean: [0, 1], std: [1, 2]), runConfiguration: ["target": "label"])
}()
