package sealed

import (
	"encoding/binary"
	"hash/crc32"
)

const (
	// Magic is the 8-byte signature at offset 0 of every sealed file.
	Magic = "HLSEAL1\n"

	// PrefixSize is the size of the fixed prefix in front of each frame's
	// ciphertext: plain length, cipher length and the CRC-32 of both.
	PrefixSize = 12

	// MaxPlainLen is the largest plaintext one frame may hold (16 MiB).
	// [Writer.Seal] refuses larger plaintexts and [Scan] treats a prefix
	// claiming more as garbage.
	MaxPlainLen = 16 << 20

	// MaxHeaderLen is the largest age header a frame may carry (64 KiB),
	// which leaves room for dozens of recipients. [NewWriter] refuses a set of
	// recipients whose header would be larger.
	MaxHeaderLen = 64 << 10

	// minHeaderLen is the shortest possible age v1 header: the version line,
	// no stanza, and the "--- " line with its 43-character base64 MAC.
	minHeaderLen = int64(len("age-encryption.org/v1\n") + len("--- \n") + 43)

	ageChunkSize = 64 << 10 // plaintext bytes per age payload chunk
	ageTagSize   = 16       // ChaCha20-Poly1305 tag per chunk
	ageNonceSize = 16       // payload nonce after the header
)

// payloadOverhead is what age adds to plain bytes of plaintext besides its
// header: the payload nonce and one tag per 64 KiB chunk.
func payloadOverhead(plain int64) int64 {
	chunks := (plain + ageChunkSize - 1) / ageChunkSize
	if chunks == 0 {
		chunks = 1
	}
	return ageNonceSize + chunks*ageTagSize
}

// validLengths reports whether a prefix's lengths describe a frame that
// Writer could have written.
func validLengths(plain, cipher int64) bool {
	if plain < 1 || plain > MaxPlainLen {
		return false
	}
	header := cipher - plain - payloadOverhead(plain)
	return header >= minHeaderLen && header <= MaxHeaderLen
}

// putPrefix fills the PrefixSize bytes of p.
func putPrefix(p []byte, plain, cipher uint32) {
	binary.BigEndian.PutUint32(p[0:4], plain)
	binary.BigEndian.PutUint32(p[4:8], cipher)
	binary.BigEndian.PutUint32(p[8:12], crc32.ChecksumIEEE(p[0:8]))
}

// parsePrefix decodes the PrefixSize bytes of p; ok is false if the CRC does
// not match or the lengths are not those of a valid frame.
func parsePrefix(p []byte) (plain, cipher int64, ok bool) {
	if crc32.ChecksumIEEE(p[0:8]) != binary.BigEndian.Uint32(p[8:12]) {
		return 0, 0, false
	}
	plain = int64(binary.BigEndian.Uint32(p[0:4]))
	cipher = int64(binary.BigEndian.Uint32(p[4:8]))
	if !validLengths(plain, cipher) {
		return 0, 0, false
	}
	return plain, cipher, true
}
