/// The validation figures of a history as named columns (metrics.csv, the report's curves): for
/// classification the weighted loss only with class weights and the ROC AUC only for two classes,
/// for regression R^2, MAE and RMSE; none without a validation set.
struct ValidationColumns {
    let names: [String]
    private let fields: [(ValidationFigures) -> Double?]

    init(_ history: [EpochRecord]) {
        var columns: [(String, (ValidationFigures) -> Double?)] = []
        switch history.lazy.compactMap(\.validation).first {
        case let .classification(first)?:
            columns = [("validation_loss", { $0.probabilities?.loss }), ("validation_accuracy", { $0.probabilities?.accuracy })]
            if first.weightedLoss != nil { columns.append(("validation_weighted_loss", { $0.probabilities?.weightedLoss })) }
            if first.auc != nil { columns.append(("validation_auc", { $0.probabilities?.auc })) }
        case .regression?:
            columns = [("validation_loss", { $0.loss }), ("validation_r2", { $0.regression?.r2 }), ("validation_mae", { $0.regression?.mae }),
                       ("validation_rmse", { $0.regression?.rmse })]
        case nil: break
        }
        names = columns.map(\.0)
        fields = columns.map(\.1)
    }

    func values(_ record: EpochRecord) -> [Double?] { fields.map { field in record.validation.flatMap(field) } }
}
