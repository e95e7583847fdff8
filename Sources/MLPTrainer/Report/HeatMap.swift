import Foundation

/// A confusion matrix as an SVG heat map: true classes as rows, predicted classes as columns, the
/// count in each cell, the cell's shade its share of the row (the class's recall on the diagonal).
public struct HeatMap {
    public var title: String
    public var labels: [String]
    /// counts[true][predicted]
    public var counts: [[Int]]

    public init(title: String, labels: [String], counts: [[Int]]) {
        self.title = title
        self.labels = labels
        self.counts = counts
    }

    public func svg() -> String {
        let k = labels.count
        let charWidth = 6.6
        let shown = labels.map { truncated($0, 18) }
        let widestLabel = Double(shown.map(\.count).max() ?? 1) * charWidth
        let digits = Double(String(counts.flatMap { $0 }.max() ?? 0).count)
        let cell = min(max(digits * 8 + 14, 420 / Double(max(k, 1)), 22), 80)
        // Column labels stand upright when they fit across a cell, otherwise they are turned.
        let turned = widestLabel + 6 > cell
        let left = 30 + widestLabel + 10
        let top = 30 + 20 + (turned ? widestLabel * 0.75 + 10 : 18)
        let width = left + Double(k) * cell + 20
        let height = top + Double(k) * cell + 16
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width.rounded(.up)))\" height=\"\(Int(height.rounded(.up)))\" "
            + "viewBox=\"0 0 \(Int(width.rounded(.up))) \(Int(height.rounded(.up)))\" font-family=\"Helvetica, Arial, sans-serif\" "
            + "font-size=\"12\" role=\"img\">\n<title>\(xmlEscape(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>\n"
        out += "<text x=\"\(f(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(xmlEscape(title))</text>\n"
        out += "<text x=\"\(f(left + Double(k) * cell / 2))\" y=\"40\" text-anchor=\"middle\" font-size=\"13\">predicted</text>\n"
        out += "<text transform=\"translate(16,\(f(top + Double(k) * cell / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">true</text>\n"
        for (j, label) in shown.enumerated() {
            let x = left + (Double(j) + 0.5) * cell
            if turned {
                out += "<text transform=\"translate(\(f(x + 4)),\(f(top - 6))) rotate(-45)\" text-anchor=\"start\">"
                    + "<title>\(xmlEscape(labels[j]))</title>\(xmlEscape(label))</text>\n"
            } else {
                out += "<text x=\"\(f(x))\" y=\"\(f(top - 6))\" text-anchor=\"middle\"><title>\(xmlEscape(labels[j]))</title>\(xmlEscape(label))</text>\n"
            }
        }
        for (i, label) in shown.enumerated() {
            let y = top + (Double(i) + 0.5) * cell
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\"><title>\(xmlEscape(labels[i]))</title>\(xmlEscape(label))</text>\n"
        }
        let fontSize = min(14, max(9, cell * 0.32))
        for i in 0..<k {
            let row = i < counts.count ? counts[i] : []
            let total = row.reduce(0, +)
            for j in 0..<k {
                let count = j < row.count ? row[j] : 0
                let share = total > 0 ? Double(count) / Double(total) : 0
                let x = left + Double(j) * cell, y = top + Double(i) * cell
                out += "<rect data-cell=\"\(i),\(j)\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell))\" height=\"\(f(cell))\" "
                    + "fill=\"\(Self.colour(share))\" stroke=\"#ffffff\" stroke-width=\"1\"/>"
                out += "<text x=\"\(f(x + cell / 2))\" y=\"\(f(y + cell / 2 + fontSize * 0.35))\" text-anchor=\"middle\" "
                    + "font-size=\"\(f(fontSize))\" fill=\"\(share > 0.5 ? "#ffffff" : "#222222")\">\(count)</text>\n"
            }
        }
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(Double(k) * cell))\" height=\"\(f(Double(k) * cell))\" fill=\"none\" stroke=\"#555555\"/>\n"
        return out + "</svg>\n"
    }

    /// White to dark blue.
    static func colour(_ share: Double) -> String {
        let t = min(max(share, 0), 1)
        let from = (247.0, 251.0, 255.0), to = (8.0, 48.0, 107.0)
        func mix(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
    }
}

private func f(_ v: Double) -> String { String(format: "%.2f", v) }
