// Package sealed stores a recording encrypted at rest to one or more age
// recipients as a sequence of independently sealed frames, so that a process
// killed in the middle of a recording loses at most the frame being written
// and everything before it stays decryptable.
//
// A single age stream does not give that: age encrypts in 64 KiB chunks and
// only the final chunk, written on Close, marks the end of the message, so a
// stream cut short by a crash cannot be authenticated (and so not decrypted).
// Instead, every flush of the recorder becomes one [Writer.Seal] call, which
// encrypts exactly the plaintext of that flush as one complete age message.
//
// # File layout
//
// All integers are unsigned 32-bit big-endian.
//
//	offset 0:  magic, 8 bytes: "HLSEAL1\n"
//	offset 8:  frame 0
//	           frame 1
//	           ...
//
// Each frame is a fixed 12-byte prefix followed by the ciphertext:
//
//	+0   plain length   (P)   bytes of plaintext in this frame, 1..MaxPlainLen
//	+4   cipher length  (C)   bytes of ciphertext that follow the prefix
//	+8   prefix CRC           CRC-32 (IEEE) of the 8 bytes at +0..+8
//	+12  ciphertext, C bytes: one complete age v1 message (header, nonce,
//	     payload) whose plaintext is exactly the P bytes of this frame
//
// The frame ends at +12+C, where the next frame (or the end of the file)
// begins. There is no trailer and no index: the file is append-only, and the
// list of frames is rebuilt by [Scan] from the prefixes alone.
//
// A prefix is accepted only if its CRC matches, P is between 1 and
// [MaxPlainLen], and C is consistent with P: C = H + 16 + P + 16*ceil(P/64Ki),
// where 16 is the age payload nonce, 16 bytes per 64 KiB chunk are the
// ChaCha20-Poly1305 tags, and H, the length of the age header, is between 70
// (the shortest header age can write) and [MaxHeaderLen] bytes. A torn prefix, a prefix of zeros or
// a prefix made of audio or other garbage therefore reads as the end of the
// valid data rather than as a frame of some absurd length. The CRC covers the
// prefix only: the ciphertext is authenticated by age (ChaCha20-Poly1305 and
// the header MAC) when it is decrypted, so [Scan] never has to read it.
//
// # Crash recovery
//
// [Writer.Seal] hands each whole frame (prefix and ciphertext) to a single
// Write call, so after a kill -9 the file is the magic, whole frames, and at
// most one torn frame at the end. [Scan] needs no key: it reads the magic and
// the prefixes and returns an [Index] whose ValidBytes is where the whole
// frames end and whose PlainBytes is the length of the plaintext they hold
// (for a recording, its audio length). Recovery truncates the file to
// ValidBytes; [Open] then reads the plaintext with the identity.
//
// # Keys
//
// The recording process needs only the public recipient ("age1...", see
// [ParseRecipient]); the identity ([LoadIdentities]) is needed only where
// recordings are played back. An identity file should be readable by the
// service user alone (mode 0600 or 0400); LoadIdentities does not check this.
package sealed
