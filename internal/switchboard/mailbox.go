package switchboard

import "sync"

// mailbox is a bounded first-in first-out queue that one goroutine reads by
// selecting on ready. Unlike a buffered channel sized for the worst burst,
// an empty mailbox holds no room: a call waiting in a queue costs the bytes
// of what was sent to it, not of what might be.
type mailbox[T any] struct {
	mu    sync.Mutex
	items []T
	limit int
	// signal has capacity 1 and holds a token whenever items is not empty.
	signal chan struct{}
}

// newMailbox returns an empty mailbox that holds at most limit items.
func newMailbox[T any](limit int) *mailbox[T] {
	return &mailbox[T]{limit: limit, signal: make(chan struct{}, 1)}
}

// put queues v without waiting; it reports false, keeping nothing, when the
// mailbox is full.
func (m *mailbox[T]) put(v T) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) >= m.limit {
		return false
	}
	m.items = append(m.items, v)
	m.notify()
	return true
}

// ready has a value when take would return an item.
func (m *mailbox[T]) ready() <-chan struct{} { return m.signal }

// take returns the oldest item, if any, and leaves the token in ready when
// more wait.
func (m *mailbox[T]) take() (v T, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) == 0 {
		return v, false
	}
	v = m.items[0]
	var zero T
	m.items[0] = zero
	m.items = m.items[1:]
	if len(m.items) == 0 {
		m.items = nil // the next put starts a small array again
	} else {
		m.notify()
	}
	return v, true
}

// notify leaves a token in signal unless one is there; m.mu is held.
func (m *mailbox[T]) notify() {
	select {
	case m.signal <- struct{}{}:
	default:
	}
}
