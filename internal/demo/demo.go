// Package demo holds the built-in demo that `hotline serve` runs with no flags:
// its configuration, IVR flows, English and Russian prompts and hold music,
// embedded in the binary.
//
// Layout of the tree FS returns:
//
//	config.yaml            demo configuration
//	flows/                 IVR flows (YAML)
//	prompts/en/NAME.wav    English prompts, 8 kHz mono PCM16
//	prompts/ru/NAME.wav    Russian prompts, 8 kHz mono PCM16
//	music/hold.wav         music on hold, a seamless 30 s loop, 8 kHz mono PCM16
//
// Prompt names: welcome, choose-language, main-menu, enter-serial, you-entered,
// enter-ticket, invalid, no-input, goodbye, connecting, closed, digit-0 … digit-9,
// star, hash; and for the queue: position-is, wait-is, wait-short, all-busy, overflow.
//
// Regenerate the prompts with `sh internal/demo/gen/prompts.sh` (espeak-ng and
// sox) and the music with `go generate ./internal/demo`.
package demo

import (
	"embed"
	"io/fs"
)

//go:generate go run ./gen/holdmusic -o music/hold.wav

//go:embed config.yaml flows prompts music
var files embed.FS

// FS returns the embedded demo tree, rooted so that paths read like
// "config.yaml", "flows/demo.yaml" or "prompts/en/welcome.wav".
func FS() fs.FS {
	return files
}
