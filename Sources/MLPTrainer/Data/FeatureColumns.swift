/// A file's feature columns against the ones a model (or the training data) has (README, "What the
/// trainer guarantees"): the same count and, when both files have real names (not a header-less
/// file's x1, x2, ...), the same names in the same order, so swapped or renamed columns are an error
/// instead of features fed into the wrong inputs.
extension Dataset {
    /// Throws naming the first column of `source` that is not `expected`'s; `owner` says whose
    /// features those are ("the model", "the training data").
    public func checkFeatures(match expected: [String], of owner: String, source: String) throws {
        guard featureCount == expected.count else {
            throw DataError("\(source): has \(featureCount) feature columns; \(owner) has \(expected.count) (\(expected.joined(separator: ", ")))")
        }
        let generic = (1...max(1, expected.count)).map { "x\($0)" }
        if featureNames != generic, expected != generic, let i = expected.indices.first(where: { featureNames[$0] != expected[$0] }) {
            throw DataError("\(source): column \(i + 1) is '\(featureNames[i])', \(owner)'s feature \(i + 1) is '\(expected[i])'")
        }
    }
}
