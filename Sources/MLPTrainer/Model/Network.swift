/// The network as a list of layers, built from the configuration: the one place that says which
/// layers a block has (ARCHITECTURE.md, "Adding a layer"). Layers register their named tensors in
/// `layout` as they are built, in order.
struct Network: Sendable {
    let layers: [Layer]
    let layout: ParameterLayout
    let loss: OutputLoss

    /// `fusingNarrowBlocks`: narrow `Linear -> activation -> BatchNorm -> [Dropout]` blocks run as
    /// one `NarrowBlockLayer` each, chained when consecutive (the same layers and tensors; tests
    /// compare it with the unfused list).
    init(_ config: ModelConfig, fusingNarrowBlocks: Bool = true) {
        var layout = ParameterLayout()
        var blocks: [[Layer]] = []
        let sizes = config.sizes
        for (b, width) in config.hidden.enumerated() {
            let index = b + 1
            var block: [Layer] = [LinearLayer(index, fanIn: sizes[b], width: width, layout: &layout)]
            if config.norm.position == .beforeActivation, let norm = Self.norm(config, index, width, &layout) { block.append(norm) }
            block.append(ActivationLayer(index, config.activation, width: width, layout: &layout))
            if config.norm.position == .afterActivation, let norm = Self.norm(config, index, width, &layout) { block.append(norm) }
            if config.dropout > 0 { block.append(DropoutLayer(index, p: config.dropout, width: width)) }
            blocks.append(block)
        }
        var layers = fusingNarrowBlocks ? Self.fused(blocks) : Array(blocks.joined())
        layers.append(LinearLayer(config.hidden.count + 1, fanIn: sizes[sizes.count - 2], width: config.classes, layout: &layout))
        self.layers = layers
        self.layout = layout
        loss = switch config.task {
        case .classification: LogSoftmaxLoss(classes: config.classes)
        case let .regression(kind): RegressionOutputLoss(kind: kind)
        }
    }

    /// Each block as one `NarrowBlockLayer` when it is `Linear -> activation -> BatchNorm -> [Dropout]`
    /// and narrow, else unchanged. Consecutive narrow blocks are chained: each knows the one before it
    /// and whether a narrow block follows it.
    private static func fused(_ blocks: [[Layer]]) -> [Layer] {
        var layers: [Layer] = []
        for (b, block) in blocks.enumerated() {
            guard let (linear, activation, norm, dropout) = narrowParts(block) else {
                layers += block
                continue
            }
            let followed = b + 1 < blocks.count && narrowParts(blocks[b + 1]) != nil
            layers.append(NarrowBlockLayer(linear, activation, norm, dropout, previous: layers.last as? NarrowBlockLayer,
                                           feedsNarrowBlock: followed))
        }
        return layers
    }

    /// The block's layers when it can run as a `NarrowBlockLayer`.
    private static func narrowParts(_ block: [Layer]) -> (LinearLayer, ActivationLayer, BatchNormLayer, DropoutLayer?)? {
        guard block.count >= 3, let linear = block[0] as? LinearLayer, let activation = block[1] as? ActivationLayer,
              let norm = block[2] as? BatchNormLayer, linear.width <= NarrowBlockLayer.maxWidth else { return nil }
        return (linear, activation, norm, block.count > 3 ? block[3] as? DropoutLayer : nil)
    }

    private static func norm(_ config: ModelConfig, _ index: Int, _ width: Int, _ layout: inout ParameterLayout) -> Layer? {
        switch config.norm.kind {
        case .batch: BatchNormLayer(index, width: width, epsilon: config.normEpsilon, momentum: config.bnMomentum, layout: &layout)
        case .layer: LayerNormLayer(index, width: width, epsilon: config.normEpsilon, layout: &layout)
        case .none: nil
        }
    }
}
