package ivr

// Check-digit algorithms a collect node may name in its check field. The last
// digit of the input is the check digit computed over the digits before it.
const (
	// CheckLuhn is the Luhn (mod 10) algorithm of payment cards and IMEIs:
	// from the right, every second digit of the payload is doubled (minus 9
	// when over 9); the check digit brings the sum to a multiple of 10. It
	// detects every single-digit error and most swaps of neighbours.
	CheckLuhn = "luhn"
	// CheckMod11 is the weighted modulus 11 algorithm (as in NHS numbers):
	// the payload digits are weighted 2, 3, 4, ... from the right and the
	// check digit is (11 - sum mod 11) mod 11. A payload whose check would
	// be 10 has no valid number, since a keypad has no "X". It detects every
	// single-digit error and every swap of neighbours in payloads of up to
	// nine digits (a tenth digit would weigh 11, which counts for nothing).
	CheckMod11 = "mod11"
)

// CheckKinds returns the check-digit algorithms CheckDigits knows, in the
// order documentation lists them.
func CheckKinds() []string { return []string{CheckLuhn, CheckMod11} }

// KnownCheck reports whether kind names a check-digit algorithm.
func KnownCheck(kind string) bool {
	return kind == CheckLuhn || kind == CheckMod11
}

// CheckDigits reports whether value, ASCII digits ending in a check digit,
// is valid under the algorithm kind (CheckLuhn or CheckMod11). It is false
// for an unknown kind, for fewer than two digits and for anything that is
// not a digit. It is a pure function of its arguments.
func CheckDigits(kind, value string) bool {
	if len(value) < 2 {
		return false
	}
	last := value[len(value)-1]
	if last < '0' || last > '9' {
		return false
	}
	want, ok := CheckDigit(kind, value[:len(value)-1])
	return ok && want == last
}

// CheckDigit returns the check digit ('0'-'9') that completes payload under
// the algorithm kind. ok is false for an unknown kind, an empty payload, a
// payload with anything but ASCII digits, and a mod11 payload that no check
// digit can complete.
func CheckDigit(kind, payload string) (digit byte, ok bool) {
	if payload == "" {
		return 0, false
	}
	for i := range len(payload) {
		if payload[i] < '0' || payload[i] > '9' {
			return 0, false
		}
	}
	switch kind {
	case CheckLuhn:
		return luhnDigit(payload), true
	case CheckMod11:
		return mod11Digit(payload)
	}
	return 0, false
}

// luhnDigit computes the Luhn check digit of an all-digit payload.
func luhnDigit(payload string) byte {
	sum := 0
	for i := range len(payload) {
		d := int(payload[len(payload)-1-i] - '0')
		if i%2 == 0 { // the rightmost payload digit sits next to the check digit: doubled
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// mod11Digit computes the modulus 11 check digit of an all-digit payload.
func mod11Digit(payload string) (byte, bool) {
	sum := 0
	for i := range len(payload) {
		d := int(payload[len(payload)-1-i] - '0')
		sum = (sum + d*(i+2)) % 11
	}
	c := (11 - sum) % 11
	if c == 10 {
		return 0, false
	}
	return byte('0' + c), true
}
