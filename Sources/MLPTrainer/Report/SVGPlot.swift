import Foundation

/// A small, dependency-free line chart rendered as SVG: "nice" axis ticks (steps of 1, 2 or 5 times a
/// power of ten), a legend, distinct colours, optional min..max bands, and series drawn as markers
/// only (a scatter plot). Non-finite values are skipped, so the output never contains NaN.
///
/// Each series is one `<polyline data-series="NAME" data-values="x,y x,y ...">` (markers: one `<g>`
/// with the same attributes, holding a circle per point), and each band one
/// `<polygon data-band="NAME" data-values="x,low,high ...">`, with the values in data coordinates
/// (`%.9g`), so a test or a script can read the plotted numbers back.
public struct LineChart {
    public struct Series {
        /// Identifies the series in `data-series` (e.g. `a1.alpha`).
        public var name: String
        /// Shown in the legend; defaults to `name`.
        public var label: String
        public var points: [(x: Double, y: Double)]
        /// A shaded range around the line (e.g. a per-channel parameter's min..max).
        public var band: [(x: Double, low: Double, high: Double)]?
        /// Identifies the band in `data-band`; defaults to `name`.
        public var bandName: String
        public var dashed: Bool
        /// A circle per point and no line.
        public var markers: Bool

        public init(name: String, label: String? = nil, points: [(x: Double, y: Double)],
                    band: [(x: Double, low: Double, high: Double)]? = nil, bandName: String? = nil, dashed: Bool = false,
                    markers: Bool = false) {
            self.name = name
            self.label = label ?? name
            self.points = points
            self.band = band
            self.bandName = bandName ?? name
            self.dashed = dashed
            self.markers = markers
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Ticks on the x axis at whole numbers only (epochs).
    public var integerX: Bool
    /// Shown in the plot area when there is nothing to draw.
    public var emptyMessage: String
    /// A labelled vertical line (e.g. the best epoch), as `<line data-marker="LABEL" data-x="X">`.
    public var marker: (x: Double, label: String)?

    public init(title: String, xLabel: String, yLabel: String, series: [Series], integerX: Bool = false,
                emptyMessage: String = "no data") {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.integerX = integerX
        self.emptyMessage = emptyMessage
    }

    /// Tableau's ten colours: distinct, and readable on white.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// A complete `<svg>` element (no XML declaration: embeddable in HTML as it is).
    public func svg(width: Int = 560, height: Int = 340) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
            + "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\">\n"
            + "<title>\(xmlEscape(title))</title>\n" + body(width: Double(width), height: Double(height)) + "</svg>\n"
    }

    /// The chart's elements, drawn in the box (0, 0, width, height); for composing panels.
    func body(width: Double, height: Double) -> String {
        var out = "<rect x=\"0\" y=\"0\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" fill=\"#ffffff\"/>\n"
        out += "<text x=\"\(fmt(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(xmlEscape(title))</text>\n"
        let (legendSVG, top) = legend(width: width)
        let frame = ChartFrame(series: series, integerX: integerX, width: width, height: height, top: top)
        out += legendSVG + frame.axes(xLabel: xLabel, yLabel: yLabel)
        if !frame.hasData {
            out += "<text x=\"\(fmt(frame.left + frame.plotW / 2))\" y=\"\(fmt(frame.top + frame.plotH / 2))\" text-anchor=\"middle\" "
                + "font-size=\"14\" fill=\"#777777\">\(xmlEscape(emptyMessage))</text>\n"
        }
        // Bands first (under every line), then lines.
        for (i, s) in series.enumerated() { out += s.band.map { bandSVG($0, of: s, colour: Self.colour(i), frame) } ?? "" }
        for (i, s) in series.enumerated() { out += pointsSVG(s, colour: Self.colour(i), frame) }
        if let marker, marker.x.isFinite { out += markerSVG(marker, frame) }
        return out
    }

    static func colour(_ index: Int) -> String { palette[index % palette.count] }

    /// One or more rows of legend entries under the title, centred; and where the plot area starts below them.
    private func legend(width: Double) -> (svg: String, top: Double) {
        let charWidth = ChartFrame.charWidth
        var items: [(x: Double, row: Int, index: Int)] = []
        var x = 0.0, row = 0
        var rowWidths: [Double] = [0]
        for (i, s) in series.enumerated() {
            let w = 30 + Double(truncated(s.label, 40).count) * charWidth + 14
            if x > 0 && x + w > width - 20 { row += 1; x = 0; rowWidths.append(0) }
            items.append((x, row, i))
            x += w
            rowWidths[row] = x
        }
        let svg = items.map { item in
            legendEntry(series[item.index], colour: Self.colour(item.index),
                        left: (width - rowWidths[item.row]) / 2 + item.x, y: 34 + Double(item.row) * 18)
        }.joined()
        return (svg, 30 + Double(series.isEmpty ? 0 : row + 1) * 18 + 8)
    }

    /// A legend entry: the series' swatch (band, marker or line) and its label.
    private func legendEntry(_ s: Series, colour: String, left: Double, y: Double) -> String {
        var out = ""
        if s.band != nil {
            out += "<rect x=\"\(fmt(left))\" y=\"\(fmt(y - 6))\" width=\"24\" height=\"12\" fill=\"\(colour)\" fill-opacity=\"0.2\"/>\n"
        }
        if s.markers {
            out += "<circle cx=\"\(fmt(left + 12))\" cy=\"\(fmt(y))\" r=\"3.5\" fill=\"\(colour)\"/>\n"
        } else {
            out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(left + 24))\" y2=\"\(fmt(y))\" stroke=\"\(colour)\" stroke-width=\"2.5\""
                + (s.dashed ? " stroke-dasharray=\"6 3\"" : "") + "/>\n"
        }
        return out + "<text x=\"\(fmt(left + 30))\" y=\"\(fmt(y + 4))\">\(xmlEscape(truncated(s.label, 40)))</text>\n"
    }

    /// A shaded min..max band, with its values in data coordinates.
    private func bandSVG(_ band: [(x: Double, low: Double, high: Double)], of s: Series, colour: String, _ f: ChartFrame) -> String {
        let finite = band.filter { $0.x.isFinite && $0.low.isFinite && $0.high.isFinite }
        let outline = finite.map { "\(fmt(f.px($0.x))),\(fmt(f.py($0.high)))" } + finite.reversed().map { "\(fmt(f.px($0.x))),\(fmt(f.py($0.low)))" }
        let values = finite.map { "\(dataValue($0.x)),\(dataValue($0.low)),\(dataValue($0.high))" }.joined(separator: " ")
        return "<polygon data-band=\"\(xmlEscape(s.bandName))\" data-values=\"\(values)\" points=\"\(outline.joined(separator: " "))\" "
            + "fill=\"\(colour)\" fill-opacity=\"0.18\" stroke=\"\(colour)\" stroke-opacity=\"0.35\" stroke-width=\"0.8\"/>\n"
    }

    /// A series as a polyline (a single point also gets a dot), or as markers.
    private func pointsSVG(_ s: Series, colour: String, _ f: ChartFrame) -> String {
        let finite = s.points.filter { $0.x.isFinite && $0.y.isFinite }
        let values = finite.map { "\(dataValue($0.x)),\(dataValue($0.y))" }.joined(separator: " ")
        if s.markers {
            return "<g data-series=\"\(xmlEscape(s.name))\" data-values=\"\(values)\" fill=\"\(colour)\" fill-opacity=\"0.45\">\n"
                + finite.map { "<circle cx=\"\(fmt(f.px($0.x)))\" cy=\"\(fmt(f.py($0.y)))\" r=\"2.5\"/>\n" }.joined() + "</g>\n"
        }
        let coordinates = finite.map { "\(fmt(f.px($0.x))),\(fmt(f.py($0.y)))" }.joined(separator: " ")
        var out = "<polyline data-series=\"\(xmlEscape(s.name))\" data-values=\"\(values)\" points=\"\(coordinates)\" fill=\"none\" "
            + "stroke=\"\(colour)\" stroke-width=\"2\" stroke-linejoin=\"round\"" + (s.dashed ? " stroke-dasharray=\"6 3\"" : "") + "/>\n"
        if finite.count == 1 {
            out += "<circle cx=\"\(fmt(f.px(finite[0].x)))\" cy=\"\(fmt(f.py(finite[0].y)))\" r=\"3.5\" fill=\"\(colour)\"/>\n"
        }
        return out
    }

    /// A labelled vertical line.
    private func markerSVG(_ marker: (x: Double, label: String), _ f: ChartFrame) -> String {
        "<line data-marker=\"\(xmlEscape(marker.label))\" data-x=\"\(dataValue(marker.x))\" x1=\"\(fmt(f.px(marker.x)))\" "
            + "y1=\"\(fmt(f.top))\" x2=\"\(fmt(f.px(marker.x)))\" y2=\"\(fmt(f.top + f.plotH))\" stroke=\"#555555\" stroke-dasharray=\"4 3\"/>\n"
            + "<text x=\"\(fmt(f.px(marker.x) + 4))\" y=\"\(fmt(f.top + 14))\" fill=\"#555555\">\(xmlEscape(marker.label))</text>\n"
    }
}

/// A chart's plot area: its axes (ranges over every finite value of the series and bands), its box
/// in the drawing, and the mapping from data to drawing coordinates.
struct ChartFrame {
    /// The estimated width of a character of the 12-pixel font.
    static let charWidth = 6.6
    let xAxis: ChartAxis, yAxis: ChartAxis
    let left: Double, top: Double, plotW: Double, plotH: Double
    let height: Double
    let hasData: Bool

    init(series: [LineChart.Series], integerX: Bool, width: Double, height: Double, top: Double) {
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for p in s.points where p.x.isFinite && p.y.isFinite { xs.append(p.x); ys.append(p.y) }
            for b in s.band ?? [] where b.x.isFinite {
                xs.append(b.x)
                if b.low.isFinite { ys.append(b.low) }
                if b.high.isFinite { ys.append(b.high) }
            }
        }
        let y = ChartAxis.nice(min: ys.min() ?? 0, max: ys.max() ?? 1, target: 6, integer: false)
        xAxis = ChartAxis.nice(min: xs.min() ?? 0, max: xs.max() ?? 1, target: 8, integer: integerX)
        yAxis = y
        left = 28 + Double(y.ticks.map { y.label($0).count }.max() ?? 1) * Self.charWidth + 8
        (self.top, self.height, hasData) = (top, height, !xs.isEmpty)
        plotW = max(width - left - 24, 10)
        plotH = max(height - top - 48, 10)
    }

    func px(_ v: Double) -> Double { left + (v - xAxis.lo) / (xAxis.hi - xAxis.lo) * plotW }
    func py(_ v: Double) -> Double { top + plotH - (v - yAxis.lo) / (yAxis.hi - yAxis.lo) * plotH }

    /// The grid, the box, the ticks with their labels and the axis titles.
    func axes(xLabel: String, yLabel: String) -> String {
        var out = "<g class=\"axes\" stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
        for t in yAxis.ticks { out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(py(t)))\"/>\n" }
        for t in xAxis.ticks { out += "<line x1=\"\(fmt(px(t)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(px(t)))\" y2=\"\(fmt(top + plotH))\"/>\n" }
        out += "</g>\n"
        out += "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\" fill=\"none\" stroke=\"#555555\"/>\n"
        out += "<g fill=\"#333333\">\n" + yTicks() + xTicks() + "</g>\n"
        out += "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(fmt(height - 10))\" text-anchor=\"middle\" font-size=\"13\">\(xmlEscape(xLabel))</text>\n"
        return out + "<text transform=\"translate(16,\(fmt(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(xmlEscape(yLabel))</text>\n"
    }

    private func yTicks() -> String {
        zip(yAxis.ticks, yAxis.ticks.map { yAxis.label($0) }).map { t, text in
            "<line x1=\"\(fmt(left - 5))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(left))\" y2=\"\(fmt(py(t)))\" stroke=\"#555555\"/>"
                + "<text x=\"\(fmt(left - 8))\" y=\"\(fmt(py(t) + 4))\" text-anchor=\"end\">\(xmlEscape(text))</text>\n"
        }.joined()
    }

    /// The x ticks, labelled as often as the labels do not collide.
    private func xTicks() -> String {
        let labels = xAxis.ticks.map { xAxis.label($0) }
        let widest = Double(labels.map(\.count).max() ?? 1) * Self.charWidth + 10
        let spacing = xAxis.ticks.count > 1 ? px(xAxis.ticks[1]) - px(xAxis.ticks[0]) : widest
        let every = max(1, Int((widest / max(spacing, 1)).rounded(.up)))
        return zip(xAxis.ticks, labels).enumerated().map { i, tick in
            "<line x1=\"\(fmt(px(tick.0)))\" y1=\"\(fmt(top + plotH))\" x2=\"\(fmt(px(tick.0)))\" y2=\"\(fmt(top + plotH + 5))\" stroke=\"#555555\"/>"
                + (i % every == 0 ? "<text x=\"\(fmt(px(tick.0)))\" y=\"\(fmt(top + plotH + 18))\" text-anchor=\"middle\">\(xmlEscape(tick.1))</text>" : "")
                + "\n"
        }.joined()
    }
}

/// An axis range extended to "nice" tick values: steps of 1, 2 or 5 times a power of ten.
struct ChartAxis {
    var lo: Double
    var hi: Double
    var step: Double
    var ticks: [Double]

    static func nice(min: Double, max: Double, target: Int, integer: Bool) -> ChartAxis {
        var lo = min.isFinite ? min : 0, hi = max.isFinite ? max : 1
        if lo > hi { swap(&lo, &hi) }
        let scale = Swift.max(abs(lo), abs(hi))
        if hi - lo <= scale * 1e-12 || hi - lo < Double.leastNormalMagnitude * 1e6 {
            // A constant: a small range around it.
            let pad = integer ? 1 : (scale > 0 ? scale * 0.05 : 0.5)
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / Double(Swift.max(target - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        var step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
        if integer { step = Swift.max(step, 1) }
        let first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9)
        let count = Swift.max(Int(last - first), 1)
        let ticks = (0...count).map { i -> Double in
            let v = (first + Double(i)) * step
            return abs(v) < step * 1e-9 ? 0 : v
        }
        return ChartAxis(lo: ticks.first!, hi: ticks.last!, step: step, ticks: ticks)
    }

    /// A tick value with as many decimals as the step needs.
    func label(_ v: Double) -> String {
        let decimals = Swift.max(0, Int(-floor(log10(step) + 1e-9)))
        let largest = Swift.max(abs(lo), abs(hi))
        if decimals <= 6 && largest < 1e7 {
            return String(format: "%.\(decimals)f", v)
        }
        let digits = Swift.min(Swift.max(0, Int(floor(log10(largest / step)))), 8)
        return String(format: "%.\(digits)e", v)
    }
}

/// Escapes text for XML and HTML (element content and quoted attributes); characters XML forbids
/// become U+FFFD so the document stays well-formed whatever the data holds.
func xmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            let v = scalar.value
            if v < 0x20 || v == 0xFFFE || v == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out
}

/// At most `limit` characters, with an ellipsis when cut.
func truncated(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "\u{2026}"
}

/// A coordinate in the SVG (two decimals, no "-0.00").
private func fmt(_ v: Double) -> String {
    let s = formatted("%.2f", v)
    return s == "-0.00" ? "0.00" : s
}

/// A data value, as it goes into data-values: whole numbers as integers, otherwise 9 significant digits.
func dataValue(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return formatted("%.9g", v)
}
