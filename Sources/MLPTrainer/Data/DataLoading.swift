/// The trainer's data sources: CSV files through `loadCSV`, with the run's CSV options.
enum DataLoading {
    /// The data set, its load figures for summary.json and the loader's notes.
    static func load(path: String, settings: TrainingSettings, classLabels: [String]?,
                     encoding: ColumnEncoding? = nil) throws -> (Dataset, [String: Double], [String]) {
        let (dataset, report) = try loadCSV(path: path, options: settings.csv, classLabels: classLabels, encoding: encoding)
        return (dataset, [
            "load_mb_per_second": report.megabytesPerSecond, "rows": Double(report.rows),
            "invalid_rows": Double(report.invalidRows), "load_from_cache": report.fromCache ? 1 : 0,
        ], report.notes)
    }
}
