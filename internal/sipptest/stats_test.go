package sipptest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// itoa is strconv.Itoa, short for tests.
func itoa(n int) string { return strconv.Itoa(n) }

const statHeader = "StartTime;CurrentTime;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);Retransmissions(P);Retransmissions(C);\n"

func TestParseStatsTakesTheLastRow(t *testing.T) {
	csv := statHeader +
		"t0;t1;3;0;0;0;0;0;0;\n" +
		"t0;t2;0;5;5;1;1;2;7;\n"
	st, err := ParseStats(strings.NewReader(csv))
	require.NoError(t, err)
	require.Equal(t, Stats{Successful: 5, Failed: 1, Current: 0, Retransmissions: 7}, st)
}

func TestParseStatsErrors(t *testing.T) {
	for name, csv := range map[string]string{
		"empty":          "",
		"header only":    statHeader,
		"missing column": "CurrentCall;FailedCall(C);\n1;2;\n",
		"not a number":   statHeader + "a;b;x;0;0;0;0;0;0;\n",
		"negative":       statHeader + "a;b;-1;0;0;0;0;0;0;\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseStats(strings.NewReader(csv))
			require.Error(t, err)
		})
	}
}

func FuzzParseStats(f *testing.F) {
	f.Add(statHeader + "t0;t2;0;5;5;1;1;2;7;\n")
	f.Add("CurrentCall;SuccessfulCall(C)\n1;2\n")
	f.Fuzz(func(t *testing.T, csv string) {
		st, err := ParseStats(strings.NewReader(csv))
		if err == nil {
			require.GreaterOrEqual(t, st.Successful, 0)
			require.GreaterOrEqual(t, st.Failed, 0)
		}
	})
}
