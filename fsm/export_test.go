package fsm

// Chained reports whether Run takes the chain path (see Machine.chain), for the tests that pin
// that it behaves as the general dispatch does.
func (m *Machine[S, T]) Chained() bool { return m.chain != nil }
