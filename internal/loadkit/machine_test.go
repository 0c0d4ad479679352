package loadkit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	require.Equal(t, "AMD EPYC 7B13", CPUModel(strings.NewReader(info)))
	require.Equal(t, "unknown", CPUModel(strings.NewReader("")))
}

func TestDescribeMachine(t *testing.T) {
	m := DescribeMachine()
	require.Positive(t, m.CPUs)
	require.NotEmpty(t, m.Model)
	require.NotEmpty(t, m.Kernel)
}
