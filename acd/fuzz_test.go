package acd

import "testing"

// FuzzInputs decodes the fuzz input into a sequence of inputs and clock
// steps (see drive), runs them and checks the invariants after each.
func FuzzInputs(f *testing.F) {
	f.Add([]byte{0, 0, 1, 8, 1, 0, 0, 0, 4, 0, 3, 3, 0})
	f.Add([]byte("ring all then hang up while offered, then time passes"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newSim(t, driveConfig(), 1)
		drive(s, &bytesChooser{b: data}, 2000)
	})
}
