// Package baresiptest drives baresip (Debian package baresip, binary
// /usr/bin/baresip, v1.0.0 on bookworm) headless as a second real SIP phone
// for end-to-end tests: Call runs one baresip, dials a target over UDP,
// sends RFC 4733 digits, stays in the call, hangs up and stops baresip.
//
//	res, err := baresiptest.Call(ctx, baresiptest.Options{
//		Target:   "sip:support@127.0.0.1:5060",
//		Digits:   "11#",
//		DigitGap: time.Second,
//		Hold:     3 * time.Second,
//	})
//	// err: baresip missing, could not be driven, or ctx ended.
//	// res.Established, res.Closed: what baresip saw of the call.
//
// # How baresip runs
//
// Each call gets a private config folder (baresip -f DIR, in a temp folder
// removed afterwards) holding config, accounts and contacts; baresip runs
// as `baresip -f DIR` (plus -s for Options.SIPTrace) in its own process
// group with stdin on /dev/null. The config, with only the modules needed:
//
//	sip_listen       127.0.0.1:0            kernel-chosen port, no race
//	net_interface    127.0.0.1              SDP c= and RTP on loopback ("lo" fails)
//	audio_source     aufile,DIR/source.wav  Options.AudioIn, then silence
//	audio_player     aubridge,hotline-null  a bridge nobody reads: no sound card
//	rtp_ports        P-P+1                  one even port pair checked free
//	module           g711.so aufile.so aubridge.so ctrl_tcp.so
//	module_tmp       account.so
//	module_app       menu.so                provides dial, sndcode, hangup
//	ctrl_tcp_listen  127.0.0.1:PORT         a port checked free; Call retries
//	                                        with new ports if baresip is gone
//
// and the account `<sip:Caller@127.0.0.1>;regint=0` (no registration).
//
// Why these choices, measured with baresip 1.0.0 here: ausine only runs at
// 48 kHz and fails the 8 kHz G.711 source; aufile can only be a source in
// this version, and the menu module hangs the call up when aufile's file
// ends (it reads the whole file at start), so the file Call writes is
// padded with silence to 30 s past the planned call, and a call plans at
// most 10 minutes.
//
// # Control: ctrl_tcp, not -e
//
// `-e "/dial ..."` runs commands only at start-up, all at once; the stdio
// and cons modules need a terminal or an extra socket and print for people.
// ctrl_tcp takes netstring-framed JSON commands ({"command":"dial",
// "params":"sip:...","token":"1"}) and answers each with a response carrying
// the token, and it pushes every event as JSON (CALL_ESTABLISHED,
// CALL_CLOSED with the reason in "param", ...), so Call waits on events
// instead of scraping console output. Commands used: dial, sndcode (one key
// at a time), hangup, quit. baresip processes commands only once fully
// initialised, so a command sent right after connecting is safe.
//
// # What the peer sees
//
// INVITE offering PCMU, PCMA and telephone-event/8000 (payload type 101,
// fmtp 0-15, ptime 20); baresip sends with the payload type of the answer.
// Each digit is an RFC 4733 event of about 180 ms: first packet with the
// marker bit and duration 160, one update every 20 ms, then three end
// packets, one RTP timestamp per press; PCMU packets keep flowing in between
// (same SSRC). CALL_CLOSED reasons seen: "Connection reset by user" (baresip
// hung up), "Connection reset by peer" (the peer's BYE), "486 Busy Here".
package baresiptest
