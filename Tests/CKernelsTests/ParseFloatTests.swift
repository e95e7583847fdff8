import CKernels
import Foundation
import Testing

/// ck_parse_float against the C library's strtof, bit for bit.
private func parse(_ s: String) -> (rc: Int32, value: Float) {
    var v: Float = -12345
    var s = s
    let rc = s.withUTF8 { buf in
        buf.withMemoryRebound(to: CChar.self) { ck_parse_float($0.baseAddress!, $0.baseAddress! + $0.count, &v) }
    }
    return (rc, v)
}

private func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

private func expectLikeStrtof(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let (rc, v) = parse(s)
    let want = strtof(s, nil)
    #expect(rc >= 0 && same(v, want), "\(s): got \(v) (rc \(rc)), strtof \(want)", sourceLocation: sourceLocation)
}

/// xorshift64*, so the cases are the same on every run.
private struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

private func format(_ f: String, _ v: Double) -> String { String(format: f, v) }

@Suite struct ParseFloatTests {
    @Test func fixedCases() {
        for s in ["0", "-0", "+1", ".5", "5.", "-.5e-3", "1e10", "1E+10", "00012.50", "3.4028235e38", "3.4028236e38",
                  "3.40282356779733661637539395458142568448e38", "3.4028235677973366e38", "1e39", "-1e39",
                  "1e-45", "1.4e-45", "7e-46", "7.006492321624085e-46", "7.006492321624086e-46", "1e-46",
                  "1.17549435e-38", "1.1754942e-38", "16777217", "16777216.5", "16777218.999999999",
                  "8.692932128906250000e-01", "1.000000000000000000e+00", "0.1", "123456789012345678901234567890",
                  "0.000000000000000000000000000000000000000000001", "1e-99999999999999", "1e99999999999999",
                  "0e999999", "2.7182818284590452353602874713526624977572470937",
                  "0.30000001192092895507812500000000000001", "0.300000011920928955078125",
                  "0.300000011920928955078124999999999", "9999999999999999999", "4.9406564584124654e-324"] {
            expectLikeStrtof(s)
        }
    }

    @Test func literalsAndInvalidText() {
        #expect(parse("inf").rc == 1 && parse("inf").value == .infinity)
        #expect(parse("-Infinity").rc == 1 && parse("-Infinity").value == -.infinity)
        #expect(parse("NaN").rc == 1 && parse("nan").value.isNaN)
        #expect(parse("1e50").rc == 0 && parse("1e50").value == .infinity)  // a number, out of range
        for bad in ["", "+", "-", ".", "e5", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "0x10", "abc", "--1", "1-", "infx", "na"] {
            #expect(parse(bad).rc == -1, "\(bad)")
        }
    }

    /// A decimal string of one of six shapes: float values with few to many digits, HIGGS style
    /// (%.18e), float midpoints and just off them, random digit strings, subnormals, %g doubles.
    /// nil for a drawn value that is not finite.
    private func randomDecimal(_ rng: inout Rng) -> String? {
        switch rng.below(6) {
        case 0:  // a float's value with few to many digits
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            return f.isFinite ? format("%.\(rng.below(20))e", Double(f)) : nil
        case 1:  // HIGGS style
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            return f.isFinite ? format("%.18e", Double(f)) : nil
        case 2:  // exact halfway points between neighbouring floats, and just off them
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7FFF_FFFF)
            if !f.isFinite || !f.nextUp.isFinite { return nil }
            let mid = (Double(f) + Double(f.nextUp)) / 2  // exact in double
            let exact = format("%.60e", mid)
            let parts = exact.split(separator: "e")
            switch rng.below(3) {
            case 0: return exact
            case 1: return parts[0] + "000000000001e" + parts[1]
            default: return format("%.17e", mid.nextDown)
            }
        case 3:  // random digit strings, 1 to 40 digits, a point anywhere, exponents -70...40
            let n = 1 + rng.below(40)
            let point = rng.below(n + 1)
            var t = rng.below(2) == 0 ? "-" : ""
            for i in 0..<n {
                if i == point { t += "." }
                t += String(rng.below(10))
            }
            if rng.below(2) == 0 { t += "e\(rng.below(110) - 70)" }
            return t
        case 4:  // subnormals
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x00FF_FFFF)
            return format("%.\(rng.below(25))e", Double(f))
        default:  // doubles of any size, %g
            let d = Double(sign: .plus, exponent: rng.below(300) - 200, significand: 1 + Double(rng.next() >> 11) * 0x1p-53)
            return format("%.\(1 + rng.below(25))g", d)
        }
    }

    @Test func randomDecimalStrings() {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<60_000 {
            if let s = randomDecimal(&rng) { expectLikeStrtof(s) }
        }
    }

    /// Float midpoints and their neighbouring doubles in HIGGS style (%.18e): 19 digits within about a
    /// double's unit of a midpoint, where the double path must hand the number on to Eisel-Lemire.
    @Test func higgsStyleMidpoints() {
        var rng = Rng(state: 18)
        for _ in 0..<20_000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7FFF_FFFF)
            guard f.isFinite, f.nextUp.isFinite else { continue }
            let mid = (Double(f) + Double(f.nextUp)) / 2
            for v in [mid, mid.nextUp, mid.nextDown] { expectLikeStrtof(format("%.18e", v)) }
        }
    }

    /// The CSV parser's own number path (a SIMD scanner where the instruction set has one, falling
    /// back to the scalar one) under every instruction set, on random numbers with a random sign
    /// and exponent style, against strtof bit for bit; tiny chunks put numbers at chunk edges.
    @Test func csvParserMatchesStrtofOnEveryInstructionSet() throws {
        var rng = Rng(state: 7)
        let columns = 7
        var texts: [String] = []
        while texts.count < 40_000 {
            guard var s = randomDecimal(&rng) else { continue }
            if rng.below(4) == 0 { s = s.replacingOccurrences(of: "e", with: "E") }
            if rng.below(4) == 0, !s.hasPrefix("-") { s = (rng.below(2) == 0 ? "+" : "-") + s }
            if strtof(s, nil).isFinite { texts.append(s) }
        }
        let rows = texts.count / columns
        var csv = ""
        for r in 0..<rows { csv += texts[(r * columns)..<((r + 1) * columns)].joined(separator: ",") + (r % 5 == 0 ? "\r\n" : "\n") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ck-csv-numbers-\(getpid()).csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var size: Int64 = 0
        let data = try #require(ck_csv_map(path, &size))
        defer { ck_csv_unmap(data, size) }
        defer { ck_isa_force(ck_isa_best()) }
        for isa in [CK_ISA_SCALAR, CK_ISA_AVX2, CK_ISA_AVX512] where ck_isa_supported(isa) != 0 {
            for chunkBytes in [0, 97] {
                ck_isa_force(isa)
                var spec = ck_csv_spec()
                spec.data = data
                spec.size = size
                spec.fields = Int64(columns)
                spec.min_fields = Int64(columns)
                spec.target = -1
                spec.delimiter = CChar(UInt8(ascii: ","))
                spec.threads = 1  // the calling thread runs the region: the forced version applies
                spec.chunk_bytes = Int64(chunkBytes)
                var chunkRows = [Int64](repeating: 0, count: Int(max(ck_csv_chunk_count(&spec), 1)))
                #expect(ck_csv_count_rows(&spec, &chunkRows) == Int64(rows))
                var x = [Float](repeating: .nan, count: rows * columns)
                var result = ck_csv_result()
                #expect(ck_csv_parse(&spec, chunkRows, &x, nil, &result) == 0)
                ck_csv_result_free(&result)
                let wrong = zip(texts, x).filter { strtof($0.0, nil).bitPattern != $0.1.bitPattern }
                #expect(wrong.isEmpty, "\(String(cString: ck_isa_name(isa))), chunks of \(chunkBytes): \(wrong.prefix(3))")
            }
        }
    }

    @Test func formatE18MatchesPrintf() {
        var rng = Rng(state: 42)
        var buf = [CChar](repeating: 0, count: 64)
        var cases: [Float] = [0, -0.0, 1, -1, 0.1, Float.leastNonzeroMagnitude, 3.4028235e38, 1.1754944e-38, 9.999999e-5, 123456.79,
                              .infinity, -.infinity, 8.6929321e-01]
        for _ in 0..<50_000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if !f.isNaN { cases.append(f) }
        }
        for f in cases {
            let n = Int(ck_format_e18(f, &buf))
            let ours = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let want = format("%.18e", Double(f))
            #expect(ours == want, "\(f.bitPattern)")
            let m = Int(ck_format_short(f, &buf))
            let short = String(decoding: buf[0..<m].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            #expect(same(strtof(short, nil), f) && m <= 16, "\(short) for \(f)")
        }
    }
}
