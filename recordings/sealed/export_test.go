package sealed

// PutPrefixForTest writes a frame prefix, CRC included, for tests that forge
// frames.
var PutPrefixForTest = putPrefix
