package ivr_test

import (
	"strings"
	"testing"

	"github.com/hotline/hotline/ivr"
	"github.com/stretchr/testify/require"
)

func TestCheckDigitsLuhn(t *testing.T) {
	cases := map[string]bool{
		"79927398713":         true, // the textbook example
		"4242424242424242":    true, // a well-known test card
		"4012888888881881":    true,
		"378282246310005":     true, // 15 digits: the doubling starts from the right
		"6011111111111117":    true,
		"47114715":            true, // the demo's short serial
		"00":                  true,
		"18":                  true,
		"0000000000000000000": true,
		"79927398710":         false, // the check digit is off by each amount
		"79927398711":         false,
		"79927398712":         false,
		"79927398714":         false,
		"79927398719":         false,
		"97927398713":         false, // neighbours swapped
		"4242424242424241":    false,
		"4711":                false,
		"12345678":            false,
		"":                    false,
		"0":                   false, // no payload
		"7":                   false,
		"4242-4242-4242-4242": false, // only digits
		"424242424242424２":    false, // a full-width digit
		" 79927398713":        false,
		"79927398713#":        false,
	}
	for value, want := range cases {
		require.Equal(t, want, ivr.CheckDigits(ivr.CheckLuhn, value), "luhn %q", value)
	}
}

func TestCheckDigitsMod11(t *testing.T) {
	cases := map[string]bool{
		"9434765919": true, // NHS numbers
		"4010232137": true,
		"9434765910": false,
		"4010232138": false,
		"4010233127": false, // neighbours swapped
		"00":         true,
		"10":         false, // payload 1: check 11-2 = 9
		"19":         true,
		"5":          false,
		"":           false,
		"943476591x": false,
	}
	for value, want := range cases {
		require.Equal(t, want, ivr.CheckDigits(ivr.CheckMod11, value), "mod11 %q", value)
	}
	// Payload 5: 5*2 = 10, check (11-10) = 1. Payload 6: 12 mod 11 = 1, check 10: none.
	d, ok := ivr.CheckDigit(ivr.CheckMod11, "5")
	require.True(t, ok)
	require.Equal(t, byte('1'), d)
	_, ok = ivr.CheckDigit(ivr.CheckMod11, "6")
	require.False(t, ok, "a check of 10 cannot be typed")
	for c := byte('0'); c <= '9'; c++ {
		require.False(t, ivr.CheckDigits(ivr.CheckMod11, "6"+string(c)))
	}
}

func TestCheckKinds(t *testing.T) {
	require.Equal(t, []string{"luhn", "mod11"}, ivr.CheckKinds())
	for _, k := range ivr.CheckKinds() {
		require.True(t, ivr.KnownCheck(k))
	}
	require.False(t, ivr.KnownCheck(""))
	require.False(t, ivr.KnownCheck("LUHN"))
	require.False(t, ivr.CheckDigits("crc32", "79927398713"))
	_, ok := ivr.CheckDigit("crc32", "7992739871")
	require.False(t, ok)
	_, ok = ivr.CheckDigit(ivr.CheckLuhn, "")
	require.False(t, ok)
}

// FuzzCheckDigits checks the algorithms' properties on any input: no panic;
// only all-digit values of two or more digits pass; the computed check digit
// completes its payload and is the only one that does; and changing any one
// digit of a valid number (within mod11's nine-digit guarantee) makes it invalid.
func FuzzCheckDigits(f *testing.F) {
	for _, seed := range []struct{ kind, value string }{
		{ivr.CheckLuhn, "79927398713"}, {ivr.CheckLuhn, "4242424242424242"}, {ivr.CheckLuhn, "0"},
		{ivr.CheckMod11, "9434765919"}, {ivr.CheckMod11, "6"}, {"", "12"}, {"luhn", "12a"},
	} {
		f.Add(seed.kind, seed.value)
	}
	f.Fuzz(func(t *testing.T, kind, value string) {
		valid := ivr.CheckDigits(kind, value)
		allDigits := value != "" && strings.Trim(value, "0123456789") == ""
		if valid {
			require.True(t, ivr.KnownCheck(kind), "unknown kind %q passed", kind)
			require.True(t, allDigits && len(value) >= 2, "%q passed", value)
		}
		if !ivr.KnownCheck(kind) {
			return
		}
		payload := value
		if len(payload) > 40 {
			payload = payload[:40]
		}
		d, ok := ivr.CheckDigit(kind, payload)
		if !allDigits {
			require.False(t, ok, "payload %q has a check digit", payload)
			return
		}
		if !ok {
			require.Equal(t, ivr.CheckMod11, kind, "luhn completes every payload")
			for c := byte('0'); c <= '9'; c++ {
				require.False(t, ivr.CheckDigits(kind, payload+string(c)))
			}
			return
		}
		full := payload + string(d)
		require.True(t, ivr.CheckDigits(kind, full), "%s %q", kind, full)
		for c := byte('0'); c <= '9'; c++ {
			if c != d {
				require.False(t, ivr.CheckDigits(kind, payload+string(c)), "%s %q%c", kind, payload, c)
			}
		}
		if kind == ivr.CheckMod11 && len(payload) > 9 {
			return
		}
		for i := range len(full) {
			for c := byte('0'); c <= '9'; c++ {
				if c == full[i] {
					continue
				}
				changed := full[:i] + string(c) + full[i+1:]
				require.False(t, ivr.CheckDigits(kind, changed), "%s: %q → %q still passes", kind, full, changed)
			}
		}
	})
}
