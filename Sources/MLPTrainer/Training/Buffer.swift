/// A fixed-size, zero-initialised, heap buffer with a stable address, shared by reference between
/// worker threads (each writes its own part; barriers order the rest).
final class Buffer<Element>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Element>
    let count: Int
    /// Where the memory comes from when not from the heap (kept alive while the buffer lives).
    private let arena: PageArena?

    /// `arena`: the memory is cut from it (elements are plain values, never deinitialised).
    init(count: Int, zero: Element, arena: PageArena? = nil) {
        self.count = count
        self.arena = arena
        if let arena {
            pointer = arena.take(bytes: max(count, 1) * MemoryLayout<Element>.stride).bindMemory(to: Element.self,
                                                                                                   capacity: max(count, 1))
        } else {
            pointer = .allocate(capacity: max(count, 1))
        }
        pointer.initialize(repeating: zero, count: max(count, 1))
    }

    deinit { if arena == nil { pointer.deallocate() } }

    subscript(i: Int) -> Element {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    func fill(_ value: Element) { pointer.update(repeating: value, count: count) }
    var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

extension Buffer where Element == Float {
    convenience init(count: Int, arena: PageArena? = nil) { self.init(count: count, zero: 0, arena: arena) }
}

extension Buffer where Element == Double {
    convenience init(count: Int, arena: PageArena? = nil) { self.init(count: count, zero: 0, arena: arena) }
}
