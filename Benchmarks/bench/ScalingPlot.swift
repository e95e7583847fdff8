import MLPTrainer

/// `bench scaling --plot`: measured speed-up against the ideal line, over total workers (ranks x
/// threads), drawn with the training report's LineChart.
struct ScalingPlot {
    var points: [Scaling.Point]
    var title: String

    var svg: String {
        let workers = points.map { Double($0.ranks * $0.throughput.threads) }
        let chart = LineChart(
            title: "Speed-up, \(title)", xLabel: "workers (ranks x threads)", yLabel: "speed-up",
            series: [
                LineChart.Series(name: "measured", points: zip(workers, points).map { ($0, $1.speedup) }),
                LineChart.Series(name: "ideal", points: zip(workers, points).map { ($0, $1.idealSpeedup) }, dashed: true),
            ],
            integerX: true)
        return chart.svg()
    }
}
