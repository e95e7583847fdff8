/// A fixed-size, zero-initialised, heap buffer with a stable address, shared by reference between
/// worker threads (each writes its own part; barriers order the rest).
final class Buffer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(count: Int, zero: Element) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: zero, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    subscript(i: Int) -> Element {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    func fill(_ value: Element) { pointer.update(repeating: value, count: count) }
    var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

extension Buffer where Element == Float {
    convenience init(count: Int) { self.init(count: count, zero: 0) }
}

extension Buffer where Element == Double {
    convenience init(count: Int) { self.init(count: count, zero: 0) }
}
