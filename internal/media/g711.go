package media

// G.711 tables are computed once at package initialisation and never written
// again: a 64 Ki-entry encoder table per law (indexed by the top 14 bits of the
// sample is not enough for A-law, so the full 16-bit value is used) and a
// 256-entry decoder table per law.

var (
	ulawDecode = buildDecodeTable(ulawToLinear)
	alawDecode = buildDecodeTable(alawToLinear)
	ulawEncode = buildEncodeTable(linearToULaw)
	alawEncode = buildEncodeTable(linearToALaw)
)

// EncodeFrame appends the G.711 encoding of pcm to dst (one byte per sample)
// and returns the extended slice. An unknown codec encodes as PCMU.
func EncodeFrame(c Codec, pcm []int16, dst []byte) []byte {
	table := &ulawEncode
	if c == PCMA {
		table = &alawEncode
	}
	for _, s := range pcm {
		dst = append(dst, table[uint16(s)])
	}
	return dst
}

// DecodeFrame appends the linear PCM16 decoding of a G.711 payload to dst and
// returns the extended slice. An unknown codec decodes as PCMU.
func DecodeFrame(c Codec, payload []byte, dst []int16) []int16 {
	table := &ulawDecode
	if c == PCMA {
		table = &alawDecode
	}
	for _, b := range payload {
		dst = append(dst, table[b])
	}
	return dst
}

func buildDecodeTable(f func(byte) int16) [256]int16 {
	var t [256]int16
	for i := range t {
		t[i] = f(byte(i))
	}
	return t
}

func buildEncodeTable(f func(int16) byte) [65536]byte {
	var t [65536]byte
	for i := range t {
		t[i] = f(int16(uint16(i)))
	}
	return t
}

const (
	ulawBias = 0x84
	ulawClip = 32635
)

// linearToULaw is the ITU-T G.711 µ-law compressor.
func linearToULaw(s int16) byte {
	v := int(s)
	sign := 0
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

// ulawToLinear is the ITU-T G.711 µ-law expander.
func ulawToLinear(b byte) int16 {
	b = ^b
	exp := int(b>>4) & 0x07
	mant := int(b & 0x0F)
	v := ((mant << 3) + ulawBias) << exp
	v -= ulawBias
	if b&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// linearToALaw is the ITU-T G.711 A-law compressor.
func linearToALaw(s int16) byte {
	v := int(s) >> 3 // A-law works on 13-bit magnitudes
	sign := 0x80
	if v < 0 {
		v = -v - 1
		sign = 0
	}
	var out int
	if v < 32 {
		out = v >> 1
	} else {
		exp := 1
		for x := v >> 5; x > 1 && exp < 7; x >>= 1 {
			exp++
		}
		if v >= 4096 {
			v = 4095
			exp = 7
		}
		out = exp<<4 | (v>>exp)&0x0F
	}
	return byte(out|sign) ^ 0x55
}

// alawToLinear is the ITU-T G.711 A-law expander.
func alawToLinear(b byte) int16 {
	b ^= 0x55
	exp := int(b>>4) & 0x07
	mant := int(b & 0x0F)
	var v int
	if exp == 0 {
		v = mant<<4 + 8
	} else {
		v = (mant<<4 + 0x108) << (exp - 1)
	}
	if b&0x80 == 0 {
		return int16(-v)
	}
	return int16(v)
}
