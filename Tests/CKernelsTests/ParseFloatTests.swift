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

    @Test func randomDecimalStrings() {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<60_000 {
            let s: String
            switch rng.below(6) {
            case 0:  // a float's value with few to many digits
                let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
                if !f.isFinite { continue }
                s = format("%.\(rng.below(20))e", Double(f))
            case 1:  // HIGGS style
                let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
                if !f.isFinite { continue }
                s = format("%.18e", Double(f))
            case 2:  // exact halfway points between neighbouring floats, and just off them
                let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7FFF_FFFF)
                if !f.isFinite || !f.nextUp.isFinite { continue }
                let mid = (Double(f) + Double(f.nextUp)) / 2  // exact in double
                let exact = format("%.60e", mid)
                let parts = exact.split(separator: "e")
                switch rng.below(3) {
                case 0: s = exact
                case 1: s = parts[0] + "000000000001e" + parts[1]
                default: s = format("%.17e", mid.nextDown)
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
                s = t
            case 4:  // subnormals
                let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x00FF_FFFF)
                s = format("%.\(rng.below(25))e", Double(f))
            default:  // doubles of any size, %g
                let d = Double(sign: .plus, exponent: rng.below(300) - 200, significand: 1 + Double(rng.next() >> 11) * 0x1p-53)
                s = format("%.\(1 + rng.below(25))g", d)
            }
            expectLikeStrtof(s)
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
