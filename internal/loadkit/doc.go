// Package loadkit holds what the benchmark commands internal/loadrun and
// internal/agentload share: finding the module and building the hotline
// binary, running `hotline serve` on loopback and reading its listen
// addresses from its banner, and describing the host a run measured.
package loadkit
