import MLPTrainer

/// Any text as `--activation`: an error or a spec whose description parses back to the same spec.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzActivation(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    for perChannel in [false, true] {
        guard let spec = try? ActivationSpec(parsing: text, perChannel: perChannel) else { continue }
        precondition(spec.initialValues.count == spec.kind.parameters.count && spec.initialValues.allSatisfy(\.isFinite))
        precondition((try? ActivationSpec(parsing: spec.description, perChannel: perChannel)) == spec, "\(text) -> \(spec.description)")
    }
    return 0
}
