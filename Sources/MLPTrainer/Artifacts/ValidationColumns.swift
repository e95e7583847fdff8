/// The validation figures of a history as named columns (metrics.csv, the report's curves): the
/// weighted loss only with class weights and the ROC AUC only for two classes; none without a
/// validation set.
struct ValidationColumns {
    let names: [String]
    private let fields: [(ProbabilityFigures) -> Double?]

    init(_ history: [EpochRecord]) {
        let first = history.lazy.compactMap(\.validation).first
        var columns: [(String, (ProbabilityFigures) -> Double?)] = []
        if let first {
            columns = [("validation_loss", { $0.loss }), ("validation_accuracy", { $0.accuracy })]
            if first.weightedLoss != nil { columns.append(("validation_weighted_loss", { $0.weightedLoss })) }
            if first.auc != nil { columns.append(("validation_auc", { $0.auc })) }
        }
        names = columns.map(\.0)
        fields = columns.map(\.1)
    }

    func values(_ record: EpochRecord) -> [Double?] { fields.map { field in record.validation.flatMap(field) } }
}
