import Foundation
import MLPTrainer

/// Any bytes as a model file and as a checkpoint: an error is fine, a crash or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let path = NSTemporaryDirectory() + "fuzz-checkpoint-\(getpid()).safetensors"
    precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes: bytes, count: count)), "cannot write \(path)")
    defer { unlink(path) }
    if let checkpoint = try? Checkpoint.load(path: path) {
        _ = ModelValidation.nonFiniteTensors(checkpoint.model)
        _ = checkpoint.metadata
    }
    _ = try? TrainingState.load(path: path)
    return 0
}
