import Foundation

/// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
/// length, a JSON header mapping each tensor name to its dtype, shape and [begin, end) byte offsets
/// in the data section (plus "__metadata__", a map of strings), then the raw little-endian data.
public enum Safetensors {
    public struct Tensor: Equatable, Sendable {
        public enum DType: String, Sendable { case f32 = "F32", i64 = "I64" }
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(floats: [Float], shape: [Int]) {
            dtype = .f32
            self.shape = shape
            bytes = floats.withUnsafeBytes { Array($0) }
        }

        public init(int64: Int64, shape: [Int] = []) {
            dtype = .i64
            self.shape = shape
            bytes = withUnsafeBytes(of: int64.littleEndian) { Array($0) }
        }

        public var floats: [Float] {
            guard dtype == .f32 else { return [] }
            return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }

        public var int64Value: Int64? {
            guard dtype == .i64, bytes.count == 8 else { return nil }
            return bytes.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }
        }
    }

    /// The file's bytes; tensors are laid out in name order.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            header[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.bytes.count]]
            offset += t.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        // Pad the header with spaces so the data section starts 8-byte aligned.
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in tensors.keys.sorted() { data.append(contentsOf: tensors[name]!.bytes) }
        return data
    }

    public static func decode(_ data: Data, source: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ why: String) -> ArtifactError { ArtifactError("\(source): not a valid safetensors file (\(why))") }
        guard data.count >= 8 else { throw fail("too short") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else { throw fail("header length \(headerLength) exceeds the file") }
        let start = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(name: String, range: Range<Int>)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let strings = value as? [String: String] else { throw fail("__metadata__ is not a map of strings") }
                metadata = strings
                continue
            }
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("bad entry for '\(name)'") }
            guard let dtype = Tensor.DType(rawValue: dtypeName) else { throw fail("'\(name)' has unsupported dtype \(dtypeName)") }
            let elementSize = dtype == .f32 ? 4 : 8
            guard let count = ModelValidation.checkedProduct(shape), let size = ModelValidation.checkedProduct([count, elementSize]) else {
                throw fail("'\(name)' has shape \(shape), whose size is negative or overflows")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= data.count - start, offsets[1] - offsets[0] == size else {
                throw fail("'\(name)' has offsets \(offsets) that do not fit its shape \(shape) or the file")
            }
            ranges.append((name, offsets[0]..<offsets[1]))
            tensors[name] = Tensor(dtype: dtype, shape: shape, bytes: [UInt8](data.subdata(in: (start + offsets[0])..<(start + offsets[1]))))
        }
        ranges.sort { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.range.overlaps(b.range) {
            throw fail("tensors '\(a.name)' and '\(b.name)' overlap")
        }
        return (tensors, metadata)
    }
}

extension Safetensors.Tensor {
    init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }
}
