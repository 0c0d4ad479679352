package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hotline/hotline/internal/media"
)

// peer is one browser page's PeerConnection. It carries the agent's Leg: the
// leg's track goes out, the browser's microphone comes in and is fed to the
// leg's sink. A session owns at most one peer at a time.
type peer struct {
	id  uint64
	pc  *webrtc.PeerConnection
	leg *Leg
	log *slog.Logger

	mu      sync.Mutex // guards closing; held while adding to wg
	closing bool
	wg      sync.WaitGroup // the RTCP drain and the track reader
}

// newPeer answers a browser's offer on a new PeerConnection carrying leg.
// It returns the answer SDP, with every server candidate in it.
func newPeer(ctx context.Context, api *webrtc.API, id uint64, leg *Leg, offer string, log *slog.Logger) (*peer, string, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("new peer connection: %w", err)
	}
	p := &peer{id: id, pc: pc, leg: leg, log: log}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(p.onState)
	answer, err := p.answer(ctx, offer)
	if err != nil {
		p.close()
		return nil, "", err
	}
	return p, answer, nil
}

// answer applies the offer, adds the leg's track and returns the answer.
func (p *peer) answer(ctx context.Context, offer string) (string, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("offer: %w", err)
	}
	// Added after the offer, the track takes the offer's audio transceiver
	// (which becomes sendrecv) instead of opening a second m-line.
	sender, err := p.pc.AddTrack(p.leg.track)
	if err != nil {
		return "", fmt.Errorf("add track: %w", err)
	}
	p.goTracked(func() { drainRTCP(sender) })
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	if !hasAudioCodec(answer.SDP) {
		return "", errors.New("the offer has no PCMU or PCMA audio")
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("set answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gathering candidates: %w", context.Cause(ctx))
	}
	return p.pc.LocalDescription().SDP, nil
}

// hasAudioCodec reports whether an answer accepted G.711 on some audio line
// (pion rejects an m-line with no common codec by port 0).
func hasAudioCodec(sdp string) bool {
	return strings.Contains(sdp, "PCMU/8000") || strings.Contains(sdp, "PCMA/8000")
}

// addCandidate applies a trickled browser candidate.
func (p *peer) addCandidate(c *ICECandidate) error {
	if c == nil || c.Candidate == "" {
		return nil // end of candidates
	}
	return p.pc.AddICECandidate(webrtc.ICECandidateInit{
		Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment,
	})
}

// goTracked runs f in a goroutine the peer waits for, unless it is closing.
func (p *peer) goTracked(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// onState follows the connection: the leg counts as connected while this
// peer is.
func (p *peer) onState(s webrtc.PeerConnectionState) {
	p.mu.Lock()
	closing := p.closing
	p.mu.Unlock()
	if closing {
		return
	}
	p.log.Debug("softphone: peer connection state", "state", s.String())
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.leg.connected.Store(p.id)
	case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		p.leg.connected.CompareAndSwap(p.id, 0)
	}
}

// onTrack starts reading the browser's microphone. pion calls it in a
// goroutine of its own; the reading is counted in p.wg.
func (p *peer) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if t.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()
	p.log.Debug("softphone: microphone track", "codec", t.Codec().MimeType, "ssrc", uint32(t.SSRC()))
	readTrack(t, p.leg)
}

// readTrack feeds the browser's microphone to the leg's sink until the
// track ends.
func readTrack(t *webrtc.TrackRemote, leg *Leg) {
	buf := make([]byte, 1500)
	d := newMicDecoder(leg)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		d.packet(buf[:n])
	}
}

// micDecoder turns the browser's G.711 RTP into 20 ms frames for the leg's
// sink. Packets of other lengths are re-cut into 160-sample frames; comfort
// noise and events are skipped. There is no jitter buffer: loopback and LAN
// browsers deliver in order, and a lost packet is a lost frame.
type micDecoder struct {
	leg *Leg
	pkt rtp.Packet
	pcm []int16
}

// newMicDecoder returns a decoder feeding leg.
func newMicDecoder(leg *Leg) *micDecoder {
	return &micDecoder{leg: leg, pcm: make([]int16, 0, 4*frameSamples)}
}

// packet decodes one RTP packet and delivers every whole frame.
func (d *micDecoder) packet(b []byte) {
	d.pcm = decodePacket(&d.pkt, b, d.pcm)
	for len(d.pcm) >= frameSamples {
		d.leg.deliver(d.pcm[:frameSamples])
		d.pcm = d.pcm[:copy(d.pcm, d.pcm[frameSamples:])]
	}
}

// decodePacket appends the PCM of one RTP packet to pcm. Anything but
// PCMU/PCMA, or a payload too large for one packet, adds nothing.
func decodePacket(pkt *rtp.Packet, b []byte, pcm []int16) []int16 {
	if err := pkt.Unmarshal(b); err != nil {
		return pcm
	}
	var c media.Codec
	switch pkt.PayloadType {
	case uint8(media.PCMU):
		c = media.PCMU
	case uint8(media.PCMA):
		c = media.PCMA
	default:
		return pcm
	}
	if len(pkt.Payload) > 3*frameSamples || len(pcm)+len(pkt.Payload) > cap(pcm) {
		return pcm
	}
	return media.DecodeFrame(c, pkt.Payload, pcm)
}

// drainRTCP reads a sender's RTCP until the connection closes, so pion's
// interceptors run and its buffers never fill.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// close ends the peer connection and waits for its goroutines. It is
// idempotent and must not be called from a pion callback.
func (p *peer) close() {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	p.closing = true
	p.mu.Unlock()
	p.leg.connected.CompareAndSwap(p.id, 0)
	if err := p.pc.GracefulClose(); err != nil {
		p.log.Debug("softphone: close peer connection", "err", err)
	}
	p.wg.Wait()
}
