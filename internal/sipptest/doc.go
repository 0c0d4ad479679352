// Package sipptest drives SIPp (Debian package sip-tester, binary sipp) from
// Go: it runs the hotline's caller scenarios and SIPp's own echoing UAS, and
// generates the media files the scenarios play.
//
// # Scenarios (testdata/)
//
//   - ivr_caller.xml: one caller that navigates the demo IVR. INVITE with
//     PCMU + telephone-event/101; optional 100/180/183, 200, ACK; streams
//     comfort_noise.ulaw with rtp_stream for the whole call; after 1 s plays
//     dtmf_11hash.pcap (RFC 4733 digits 1, 1, # one second apart: English,
//     technical support, skip serial); stays on hold for -key hold
//     milliseconds; BYE and expects 200.
//   - load_caller.xml: the same call for load runs (rate, limit and total
//     from the command line).
//
// Both need -key hold MS. They must run with the scenario folder as the
// current directory (rtp_stream resolves its file against it; Run does this)
// and as root (play_pcap_audio sends through a raw socket). The SDP names
// [media_port]: with [rtpstream_audio_port] SIPp 3.6.1 sends the digits from
// source port 0, which breaks symmetric RTP.
//
// Regenerate the media files with `go generate ./internal/sipptest`
// (WriteComfortNoise, WriteDTMFPcap). The digits are one coherent RTP stream
// (one SSRC, rising sequence numbers, a distinct timestamp per digit), so a
// receiver that de-duplicates RFC 4733 events by timestamp sees two presses
// of 1, not one; SIPp's own dtmf_2833_1.pcap replayed twice would not.
//
// # Running a scenario
//
//	res, err := sipptest.Run(ctx, sipptest.Options{
//		Scenario: "internal/sipptest/testdata/ivr_caller.xml",
//		Target:   "127.0.0.1:5060",
//		Calls:    1,
//		Keys:     map[string]string{"hold": "8000"},
//		Timeout:  time.Minute,
//	})
//	// err: sipp missing or could not run; res.Err(): some call failed.
//
// # SIPp's echoing UAS (uas_echo)
//
// StartUAS runs `sipp -sn uas -rtp_echo` on free loopback ports: it answers
// every INVITE with 180 and 200 (SDP PCMU on its -mp port), echoes every RTP
// packet back to its sender, and answers BYE with 200. It is the stand-in
// callee for testing the caller scenarios before the hotline exists, and the
// baseline the load benchmark compares the hotline's CPU with (UAS.PID). By
// hand:
//
//	sipp -sn uas -i 127.0.0.1 -mi 127.0.0.1 -p 5070 -mp 16000 -rtp_echo -nostdin
//	cd internal/sipptest/testdata
//	sipp 127.0.0.1:5070 -sf ivr_caller.xml -i 127.0.0.1 -mi 127.0.0.1 -key hold 2000 -m 1 -nostdin
//
// Its echo socket drops packets beyond about 1,000 streaming calls, so it is
// a fair baseline up to that load only.
package sipptest

//go:generate go run ./gen -dir testdata
