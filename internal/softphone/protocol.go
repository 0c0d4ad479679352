// Package softphone connects agents' browsers to calls: one pion WebRTC
// API for all agents on a single UDP port, one persistent PeerConnection per
// signed-in agent, a per-agent media Leg that survives page reloads, and the
// agent protocol over one WebSocket per agent.
//
// # Agent protocol, version 1
//
// This section is the reference for every agent desktop (the embedded page in
// internal/web, the pure-Go client in internal/softphone/agentclient, or any
// other client built later).
//
// # Transport
//
// One WebSocket per signed-in agent: GET /api/v1/agent/ws. The HTTP layer
// checks the session cookie and the Origin before the connection reaches
// this package. API tokens are refused (403): a token names a script, not
// an agent. A desktop client signs in as the agent (POST /api/v1/login)
// and sends the session cookie it gets. Every frame is a text frame holding one
// JSON object, at most MaxMessageBytes long:
//
//	{"v":1,"type":"<type>", ...fields}
//
// "v" is the protocol version (always 1 here) and "type" names the message.
// Unknown fields are ignored, so fields can be added without a new version.
// A message with another "v" gets an error reply with code "version"; an
// unknown "type", bad JSON or a missing required field gets an error reply
// (codes below) and the connection is kept open.
//
// # Session flow
//
//  1. The browser connects and sends hello; the server replies welcome (the
//     agent's current state, the not-ready reasons, the ICE servers, and the
//     live call if there is one, so a reloaded page re-attaches to it).
//  2. The browser gets the microphone, creates one RTCPeerConnection with the
//     ice_servers from welcome, and sends webrtc_offer; the server replies
//     webrtc_answer. The answer carries all server candidates (no server
//     trickle is needed, though the server may still send ice). The browser
//     may trickle its candidates with ice. This peer connection lives as long
//     as the page: calls are switched onto it with no new negotiation, so a
//     call connects the moment the agent accepts.
//  3. The browser sends ping every 3 s (any message counts); a browser silent
//     for 10 s is declared dead: its socket is closed and the agent becomes
//     not ready ("disconnected"). A new connection for the same agent (a page
//     reload, a second tab) replaces the old one, which is closed with
//     WebSocket status 4000 ("replaced"); if the new one arrives within a few
//     seconds the agent keeps their state and their live call.
//  4. Call-center commands (ready, not_ready, accept, reject, hangup, hold,
//     dtmf, transfer, wrapup_done, pause_recording, mute) are answered by
//     state, ring, ring_cancel and call messages, or by an error (for example
//     code "forbidden" for a call that is not the agent's own).
//
// # Browser → server
//
//	hello        {}                                   first message; answered by welcome
//	webrtc_offer {sdp}                                SDP offer (audio, sendrecv); answered by webrtc_answer.
//	                                                  Each offer starts a new server peer connection (the
//	                                                  previous one is closed): send the offer of a new
//	                                                  RTCPeerConnection, renegotiation is not supported in v1.
//	ice          {candidate}                          trickled RTCIceCandidateInit JSON; candidate null or
//	                                                  an empty candidate string means end of candidates
//	ready        {}                                   go ready
//	not_ready    {reason}                             go not ready; reason from welcome.reasons
//	accept       {call_id}                            accept the offered call
//	reject       {call_id}                            decline the offered call
//	hangup       {call_id}                            end the call
//	hold         {call_id, on}                        on=true: caller hears hold music; on=false: resume
//	dtmf         {call_id, digits}                    digits 0-9 * # A-D (at most 32), sent as RFC 4733
//	transfer     {call_id, queue | agent}             blind transfer to a queue or an agent id (exactly one);
//	                                                  accepted: call {status ended, ended_by "transfer"};
//	                                                  refused (unknown queue, agent not signed in, …):
//	                                                  error {code "invalid", ref "transfer"}, the call goes on
//	wrapup_done  {call_id, note?, disposition?}       end wrap-up early with a note and a disposition
//	pause_recording {call_id, on}                     PCI pause: on=true stops recording the call (the
//	                                                  file gets silence and a "pci" marker), on=false
//	                                                  resumes; answered by call {recording "paused"|"on"},
//	                                                  or error {code "state"} for a call not recorded
//	mute         {call_id, on}                        the agent muted (on=true) or unmuted their
//	                                                  microphone; informational, the recording marks it
//	                                                  ("mute" marker). The page mutes its own track.
//	consult      {call_id, agent}                     warm transfer: talk to agent (who must be ready) while
//	                                                  the caller hears hold music; answered by consultation
//	                                                  {status "ringing"}, or error {code "invalid", ref
//	                                                  "consult"} when refused (agent not ready, …)
//	consult_accept {call_id}                          the consulted agent takes it (consultation "talking")
//	consult_reject {call_id}                          the consulted agent declines it, or leaves it once talking
//	consult_complete {call_id}                        the caller goes to the consulted agent: the first gets
//	                                                  call {status ended, ended_by "transfer"}, the other call
//	                                                  {status connected}
//	consult_cancel {call_id}                          the consultation ends; the caller is back with the agent
//	ping         {t}                                  heartbeat every 3 s; t is echoed in pong
//
// # Server → browser
//
//	welcome       {agent:{id,name}, state, reason, since, reasons, reason_labels?, ice_servers, call?, ring?, queues?, agents?}
//	webrtc_answer {sdp}
//	ice           {candidate}
//	state         {state, reason, since}
//	ring          {call_id, from, queue, language, vars, ivr_path, ivr_steps?, timeout_ms, tickets, caller?}
//	ring_cancel   {call_id, reason}                   the offer is withdrawn: stop ringing
//	call          {call_id, status, from, queue, language, vars, ivr_path?, ivr_steps?, tickets?, caller?, wrap_up_ms?, hold_warn_ms?, dispositions?, ended_by?, recording?}
//	monitor       {call_id, mode, from?, queue?, agent?, reason?}   a supervisor's softphone is on a call (below)
//	consultation  {call_id, role, status, agent, from?, queue?, vars?, caller?, timeout_ms?, reason?}   (below)
//	error         {code, message, ref?}
//	pong          {t}
//
// Agent states: signed_out, ready, not_ready, offered, on_call, on_hold,
// wrap_up, consult. Times ("since") are Unix milliseconds; "timeout_ms" is a duration
// in milliseconds. Call status: connected, held, ended. Call recording:
// "on" (being recorded), "paused" (PCI pause), absent or "" (not recorded).
//
// # Changes from the outline
//
//   - Additions only; every outline field keeps its name and meaning.
//   - welcome has an optional "ring" (the pending offer, so a page reloaded
//     while ringing rings again).
//   - call has optional "ivr_path" and "tickets" (the screen pop survives a
//     reload).
//   - ring and call have optional "ivr_steps": ivr_path with the flow's
//     labels ({node, type, label: {lang: text}, var?, value?}, IVRStep), so
//     a page shows what the caller chose in the agent's language.
//   - welcome has optional "reason_labels": {reason: {lang: text}}, and
//     "no_queue": true for a user who is a member of no queue.
//   - ring and call have optional "caller": {number, name?, calls_today,
//     last_call_at?, last_outcome?} (Caller): who calls and how often today.
//   - call has optional "wrap_up_ms" and "hold_warn_ms": the queue's
//     wrap-up time (for a countdown) and when a hold has lasted too long.
//   - error has an optional "ref": the type of the message that caused it.
//   - welcome has optional "queues" and "agents": the transfer targets to
//     offer the agent (queue names; the other agents' ids). A transfer may
//     still name any queue or agent; the server decides.
//   - Audio trouble: a page whose peer connection fails, or is not connected
//     some seconds after its offer, makes new offers (webrtc_offer again,
//     a bounded number of times with backoff); when it gives up it sends
//     not_ready {reason "audio"} (a built-in reason, always accepted). The
//     server also makes a ready or ringing agent not ready "audio" when
//     their page has had no media connection for the softphone's
//     audio_grace (Desk.AudioLost), so no call is offered into silence.
//   - The other agents' states for the transfer list are not pushed on this
//     socket: the page reads them over HTTP, GET /api/v1/agent/overview
//     (any signed-in agent may), whose "agents" are [{agent, state, reason,
//     since}]: the other agents who are signed in with their softphone
//     attached, members of a queue (so no supervisor), ready first, then
//     wrap_up, then offered/on_call/on_hold, then not_ready, then by id. The
//     agent page reads it every 5 s, when the transfer kind changes and when
//     the list gets focus, so it follows the states during a call; welcome's
//     "agents" stand in until the first answer.
//   - since is Unix time in milliseconds; ping/pong t is an integer the
//     browser chooses (Date.now() is fine).
//   - pause_recording and mute (browser → server) and the optional
//     "recording" of call: the call recordings. A server that does not
//     record answers pause_recording with an error; a page shows the pause
//     button only while call.recording is set.
//   - monitor (server → browser) and the optional "monitor" of welcome:
//     supervisors' monitoring, below.
//
// # Supervisors: monitor, whisper, barge
//
// A supervisor (or admin) connects the same softphone: the same socket,
// hello, one peer connection. A user who is a member of no queue is not an
// agent: their welcome says state "signed_out", with no queues or agents,
// and they are never offered calls (ready is refused). A supervisor joins a
// live call through the API (POST /api/v1/calls/{id}/monitor, mode
// "listen", "whisper", "barge" or "off"), not through this socket, and
// their softphone carries the audio:
//
//	listen   the supervisor hears the caller and the agent; nobody hears them
//	whisper  as listen, and the agent hears the supervisor; the caller does not
//	barge    as listen, and both the agent and the caller hear the supervisor
//
// Each change is pushed to the supervisor's socket as monitor {call_id,
// mode, from, queue, agent}; when the monitoring ends, monitor {call_id,
// mode "off", reason}: reason "off" (they asked), "transfer" (the agent
// transferred the call), "consult" (the agent consults another agent),
// "hangup" (the call ended), or "softphone" (their softphone went away).
// While the agent holds the call the caller hears the hold music and
// nothing else; the supervisor hears the agent, and in
// whisper or barge the agent hears the supervisor (coaching during a hold).
// The agent's and the caller's sides get no message and no tone: the
// monitoring is not shown to them. A welcome after a reload carries the
// monitoring under way in "monitor".
//
// # Consultations (warm transfer)
//
// The agent on a call sends consult {call_id, agent}: the caller hears the
// hold music, both agents' state becomes "consult", and each gets
// consultation {call_id, role, status "ringing", agent: the other one}; the
// consulted agent's carries the caller (from, queue, vars, caller) and
// timeout_ms, and rings until consult_accept or consult_reject (or the
// timeout: the target becomes not ready "missed call"). Accepted, both get
// status "talking" and hear each other; the caller still hears only the
// music. The first agent then sends consult_complete (the caller and the
// consulted agent talk; the first agent's call ends with ended_by
// "transfer", wrap-up follows) or consult_cancel (the caller is back with
// the first agent, the other agent is ready). Every end is consultation
// {status "ended", reason}: "completed", "cancelled", "rejected", "timeout",
// "caller_hangup" (both are done with the call), "agent_left" (a browser
// went away or signed out). Hold and transfer are refused during a
// consultation; a supervisor monitoring the call is taken off it (monitor
// reason "consult"). welcome has "consult": true when the server offers
// consultations, and "consultation" (the last consultation message) while
// one is under way, so a reloaded page shows it again.
package softphone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Version is the protocol version carried in every message's "v" field.
const Version = 1

// MaxMessageBytes is the largest message either side accepts.
const MaxMessageBytes = 64 << 10

// Limits on field sizes, checked by Decode.
const (
	maxIDLen     = 128
	maxReasonLen = 64
	maxDigits    = 32
	maxNoteLen   = 4000
	maxSDPLen    = 48 << 10
)

// Message types.
const (
	TypeHello          = "hello"
	TypeWebRTCOffer    = "webrtc_offer"
	TypeWebRTCAnswer   = "webrtc_answer"
	TypeICE            = "ice"
	TypeReady          = "ready"
	TypeNotReady       = "not_ready"
	TypeAccept         = "accept"
	TypeReject         = "reject"
	TypeHangup         = "hangup"
	TypeHold           = "hold"
	TypeDTMF           = "dtmf"
	TypeTransfer       = "transfer"
	TypeWrapupDone     = "wrapup_done"
	TypePauseRecording = "pause_recording"
	TypeMute           = "mute"
	TypePing           = "ping"
	TypeWelcome        = "welcome"
	TypeState          = "state"
	TypeRing           = "ring"
	TypeRingCancel     = "ring_cancel"
	TypeCall           = "call"
	TypeError          = "error"
	TypePong           = "pong"
	TypeMonitor        = "monitor"
)

// Agent states, as carried in welcome.state and state.state.
const (
	StateSignedOut = "signed_out"
	StateReady     = "ready"
	StateNotReady  = "not_ready"
	StateOffered   = "offered"
	StateOnCall    = "on_call"
	StateOnHold    = "on_hold"
	StateWrapUp    = "wrap_up"
)

// Call statuses, as carried in call.status.
const (
	CallConnected = "connected"
	CallHeld      = "held"
	CallEnded     = "ended"
)

// Recording states of a call, as carried in call.recording ("" when the
// call is not recorded).
const (
	RecordingOn     = "on"
	RecordingPaused = "paused"
)

// Monitoring modes of a supervisor on a call, as carried in monitor.mode.
const (
	MonitorListen  = "listen"  // the supervisor hears the caller and the agent
	MonitorWhisper = "whisper" // and the agent hears the supervisor
	MonitorBarge   = "barge"   // and the caller hears the supervisor too
	MonitorOff     = "off"     // the supervisor left the call
)

// Error codes, as carried in error.code.
const (
	// CodeBadJSON: the frame is not a JSON object.
	CodeBadJSON = "bad_json"
	// CodeVersion: "v" is missing or not Version.
	CodeVersion = "version"
	// CodeUnknownType: "type" is missing or not a known browser message.
	CodeUnknownType = "unknown_type"
	// CodeInvalid: a required field is missing or a field is malformed.
	CodeInvalid = "invalid"
	// CodeTooLarge: the frame is longer than MaxMessageBytes.
	CodeTooLarge = "too_large"
	// CodeSequence: the message is not allowed yet (e.g. before hello).
	CodeSequence = "sequence"
	// CodeForbidden: the call or offer is not this agent's.
	CodeForbidden = "forbidden"
	// CodeNotFound: no such call (it may have ended).
	CodeNotFound = "not_found"
	// CodeState: the command is not possible in the agent's current state.
	CodeState = "state"
	// CodeWebRTC: the offer could not be answered.
	CodeWebRTC = "webrtc"
	// CodeInternal: a server-side failure; retrying may help.
	CodeInternal = "internal"
	// CodeDisposition: wrap-up cannot end without one of the queue's
	// disposition codes.
	CodeDisposition = "disposition_required"
)

// Message is one protocol message. Type returns its "type" value.
type Message interface {
	Type() string
}

// AgentInfo identifies an agent: welcome.agent.
type AgentInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ICEServer is one STUN or TURN server for the browser's RTCPeerConnection,
// in the shape of the browser's RTCIceServer.
type ICEServer struct {
	// URLs such as "stun:stun.example.org:3478" or "turn:turn.example.org?transport=udp".
	URLs []string `json:"urls" yaml:"urls"`
	// Username for TURN.
	Username string `json:"username,omitempty" yaml:"username"`
	// Credential (password) for TURN.
	Credential string `json:"credential,omitempty" yaml:"credential"`
}

// ICECandidate is the browser's RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Ticket is a short view of one of the caller's tickets (the screen pop).
type Ticket struct {
	Number   string `json:"number"`
	Subject  string `json:"subject,omitempty"`
	Status   string `json:"status,omitempty"`
	Priority string `json:"priority,omitempty"`
	Product  string `json:"product,omitempty"`
	Serial   string `json:"serial,omitempty"`
	// Updated is the last change, Unix milliseconds.
	Updated int64 `json:"updated,omitempty"`
	// LastNote is the text of the newest note, shortened; Missed marks a
	// ticket a missed call left.
	LastNote string `json:"last_note,omitempty"`
	Missed   bool   `json:"missed,omitempty"`
}

// Hello is the browser's first message (browser → server). The server
// answers with Welcome.
type Hello struct{}

// WebRTCOffer carries the browser's SDP offer (browser → server). The server
// answers with WebRTCAnswer on a new peer connection.
type WebRTCOffer struct {
	SDP string `json:"sdp"`
}

// WebRTCAnswer carries the server's SDP answer (server → browser).
type WebRTCAnswer struct {
	SDP string `json:"sdp"`
}

// ICE is a trickled ICE candidate (both directions). A nil Candidate, or an
// empty Candidate.Candidate, marks the end of candidates.
type ICE struct {
	Candidate *ICECandidate `json:"candidate"`
}

// Ready asks to make the agent ready for calls (browser → server).
type Ready struct{}

// NotReady asks to make the agent not ready (browser → server). Reason is
// one of Welcome.Reasons.
type NotReady struct {
	Reason string `json:"reason"`
}

// Accept accepts the offered call (browser → server).
type Accept struct {
	CallID string `json:"call_id"`
}

// Reject declines the offered call (browser → server).
type Reject struct {
	CallID string `json:"call_id"`
}

// Hangup ends the agent's call (browser → server).
type Hangup struct {
	CallID string `json:"call_id"`
}

// Hold puts the caller on hold (On true: they hear hold music) or resumes
// the call (On false) (browser → server).
type Hold struct {
	CallID string `json:"call_id"`
	On     bool   `json:"on"`
}

// DTMF sends digits to the caller as RFC 4733 events (browser → server).
// Digits are 0-9, *, # and A-D.
type DTMF struct {
	CallID string `json:"call_id"`
	Digits string `json:"digits"`
}

// Transfer blind-transfers the call to a queue or to an agent: exactly one
// of Queue and Agent is set (browser → server).
type Transfer struct {
	CallID string `json:"call_id"`
	Queue  string `json:"queue,omitempty"`
	Agent  string `json:"agent,omitempty"`
}

// WrapupDone ends wrap-up early, with the agent's note and disposition
// (browser → server).
type WrapupDone struct {
	CallID      string `json:"call_id"`
	Note        string `json:"note,omitempty"`
	Disposition string `json:"disposition,omitempty"`
}

// PauseRecording pauses (On true) or resumes (On false) the recording of
// the agent's call, so that card numbers and the like are not recorded: a
// PCI pause (browser → server). The server answers with a Call carrying the
// new Recording state.
type PauseRecording struct {
	CallID string `json:"call_id"`
	On     bool   `json:"on"`
}

// Mute tells the server the agent muted (On true) or unmuted (On false)
// their microphone during the call (browser → server); the recording marks
// the span. The browser silences its own track: this message does not.
type Mute struct {
	CallID string `json:"call_id"`
	On     bool   `json:"on"`
}

// Ping is the browser's heartbeat, every 3 s (browser → server). The server
// answers Pong with the same T.
type Ping struct {
	T int64 `json:"t"`
}

// Pong answers Ping (server → browser).
type Pong struct {
	T int64 `json:"t"`
}

// Welcome answers Hello with the agent's state snapshot (server → browser).
// Call is set when the agent has a live call (a reloaded page re-attaches to
// it); Ring is set while a call is being offered to the agent.
type Welcome struct {
	Agent   AgentInfo `json:"agent"`
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	Since   int64     `json:"since"`
	Reasons []string  `json:"reasons"`
	// ReasonLabels are the reasons as people read them, by reason and
	// language code; optional, a reason without one shows as written.
	ReasonLabels map[string]map[string]string `json:"reason_labels,omitempty"`
	ICEServers   []ICEServer                  `json:"ice_servers"`
	Call         *Call                        `json:"call,omitempty"`
	Ring         *Ring                        `json:"ring,omitempty"`
	// Queues and Agents are transfer targets to offer: the queues' names
	// and the other agents' ids. Both optional.
	Queues []string `json:"queues,omitempty"`
	Agents []string `json:"agents,omitempty"`
	// NoQueue is set for a user who is a member of no queue: they are
	// never offered calls and cannot go ready (the page says why).
	NoQueue bool `json:"no_queue,omitempty"`
	// Consult is set when the agent may consult another agent during a
	// call (warm transfer; the consult message).
	Consult bool `json:"consult,omitempty"`
	// Consultation is the consultation under way, if any (a page
	// reloaded during one shows it again).
	Consultation *Consultation `json:"consultation,omitempty"`
	// Monitor is the call a supervisor is monitoring, if any.
	Monitor *Monitor `json:"monitor,omitempty"`
}

// State tells the browser the agent's state changed (server → browser).
// Since is Unix milliseconds.
type State struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	Since  int64  `json:"since"`
}

// Ring offers a call to the agent (server → browser): ring until Accept,
// Reject, RingCancel or TimeoutMS. Vars holds what the IVR collected (for
// example "serial"); IVRPath the menu choices in order.
type Ring struct {
	CallID   string            `json:"call_id"`
	From     string            `json:"from"`
	Queue    string            `json:"queue"`
	Language string            `json:"language,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	IVRPath  []string          `json:"ivr_path,omitempty"`
	// IVRSteps are IVRPath as the agent reads it (IVRStep); optional.
	IVRSteps  []IVRStep `json:"ivr_steps,omitempty"`
	TimeoutMS int64     `json:"timeout_ms"`
	// Tickets are the caller's open tickets (the screen pop), newest first,
	// at most 5; always present, [] when there are none.
	Tickets []Ticket `json:"tickets"`
	// Caller is who calls, as far as the hotline knows; optional.
	Caller *Caller `json:"caller,omitempty"`
}

// Caller is what the hotline knows of a caller (the screen pop): Number is
// the calling number (P-Asserted-Identity's on a trunk that trusts it,
// else the From user part; unformatted, the page groups it), Name their
// name from a ticket, else the display name of the same header ("" when
// unknown); CallsToday counts their other calls of the last 24
// hours, the newest of which arrived at LastCallAt (Unix milliseconds) and
// ended as LastOutcome (the call row's outcome: "answered", "abandoned", …).
type Caller struct {
	Number      string `json:"number"`
	Name        string `json:"name,omitempty"`
	CallsToday  int    `json:"calls_today"`
	LastCallAt  int64  `json:"last_call_at,omitempty"`
	LastOutcome string `json:"last_outcome,omitempty"`
}

// IVRStep is one node of a call's IVR path as an agent reads it: Label is
// the flow's text for it by language code ("" for every language); no
// label means the flow gives none (show Node), a label whose texts are all
// empty means "do not show". Type is the node's type; a "collect" step
// names its Var and the Value the caller entered ("" when skipped), a
// "language" step's Value is the language chosen.
type IVRStep struct {
	Node  string            `json:"node"`
	Type  string            `json:"type"`
	Label map[string]string `json:"label,omitempty"`
	Var   string            `json:"var,omitempty"`
	Value string            `json:"value,omitempty"`
}

// RingCancel withdraws an offer (server → browser). Reason is one of
// "caller_hangup", "timeout", "taken" (another agent answered) or
// "rerouted".
type RingCancel struct {
	CallID string `json:"call_id"`
	Reason string `json:"reason"`
}

// Call reports the agent's call (server → browser): connected, held, or
// ended (EndedBy "caller", "agent", "system" or "transfer"), and whether it
// is being recorded.
type Call struct {
	CallID   string            `json:"call_id"`
	Status   string            `json:"status"`
	From     string            `json:"from"`
	Queue    string            `json:"queue"`
	Language string            `json:"language,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	IVRPath  []string          `json:"ivr_path,omitempty"`
	IVRSteps []IVRStep         `json:"ivr_steps,omitempty"`
	Tickets  []Ticket          `json:"tickets,omitempty"`
	Caller   *Caller           `json:"caller,omitempty"`
	// WrapUpMS is the queue's wrap-up time (the agent is made ready that
	// long after the call ends; 0: at once); HoldWarnMS how long a hold may
	// last before the page warns. Both optional.
	WrapUpMS   int64 `json:"wrap_up_ms,omitempty"`
	HoldWarnMS int64 `json:"hold_warn_ms,omitempty"`
	// Dispositions are the wrap-up codes of the call's queue; when there
	// are any, WrapupDone must name one of them.
	Dispositions []string `json:"dispositions,omitempty"`
	EndedBy      string   `json:"ended_by,omitempty"`
	// Recording is RecordingOn, RecordingPaused, or "" when the call is not
	// recorded.
	Recording string `json:"recording,omitempty"`
}

// Monitor tells a supervisor's softphone which live call it is on and in
// which mode (server → browser): MonitorListen, MonitorWhisper or
// MonitorBarge, with the call's caller, queue and agent; or MonitorOff with
// Reason ("off", "transfer", "consult", "hangup" or "softphone") when it left
// the call.
type Monitor struct {
	CallID string `json:"call_id"`
	Mode   string `json:"mode"`
	From   string `json:"from,omitempty"`
	Queue  string `json:"queue,omitempty"`
	Agent  string `json:"agent,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Error reports a failed message or command (server → browser). Ref is the
// type of the message that caused it, when known. *Error is also a Go error:
// Decode returns one, and a Desk may return one to choose the code sent to
// the browser.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
}

// Type implements Message.
func (Hello) Type() string { return TypeHello }

// Type implements Message.
func (WebRTCOffer) Type() string { return TypeWebRTCOffer }

// Type implements Message.
func (WebRTCAnswer) Type() string { return TypeWebRTCAnswer }

// Type implements Message.
func (ICE) Type() string { return TypeICE }

// Type implements Message.
func (Ready) Type() string { return TypeReady }

// Type implements Message.
func (NotReady) Type() string { return TypeNotReady }

// Type implements Message.
func (Accept) Type() string { return TypeAccept }

// Type implements Message.
func (Reject) Type() string { return TypeReject }

// Type implements Message.
func (Hangup) Type() string { return TypeHangup }

// Type implements Message.
func (Hold) Type() string { return TypeHold }

// Type implements Message.
func (DTMF) Type() string { return TypeDTMF }

// Type implements Message.
func (Transfer) Type() string { return TypeTransfer }

// Type implements Message.
func (WrapupDone) Type() string { return TypeWrapupDone }

// Type implements Message.
func (PauseRecording) Type() string { return TypePauseRecording }

// Type implements Message.
func (Mute) Type() string { return TypeMute }

// Type implements Message.
func (Ping) Type() string { return TypePing }

// Type implements Message.
func (Pong) Type() string { return TypePong }

// Type implements Message.
func (Welcome) Type() string { return TypeWelcome }

// Type implements Message.
func (State) Type() string { return TypeState }

// Type implements Message.
func (Ring) Type() string { return TypeRing }

// Type implements Message.
func (RingCancel) Type() string { return TypeRingCancel }

// Type implements Message.
func (Call) Type() string { return TypeCall }

// Type implements Message.
func (Error) Type() string { return TypeError }

// Type implements Message.
func (Monitor) Type() string { return TypeMonitor }

// Error implements error.
func (e *Error) Error() string {
	if e.Ref != "" {
		return "softphone: " + e.Ref + ": " + e.Code + ": " + e.Message
	}
	return "softphone: " + e.Code + ": " + e.Message
}

// errorf builds an *Error.
func errorf(code, ref, format string, args ...any) *Error {
	return &Error{Code: code, Ref: ref, Message: fmt.Sprintf(format, args...)}
}

// FromBrowser reports whether a browser may send messages of type typ.
func FromBrowser(typ string) bool {
	switch typ {
	case TypeHello, TypeWebRTCOffer, TypeICE, TypeReady, TypeNotReady, TypeAccept, TypeReject,
		TypeHangup, TypeHold, TypeDTMF, TypeTransfer, TypeWrapupDone, TypePauseRecording, TypeMute, TypePing:
		return true
	}
	return consultFromBrowser(typ)
}

// IsCommand reports whether m is a call-center command, forwarded to the Desk
// (ready, not_ready, accept, reject, hangup, hold, dtmf, transfer,
// wrapup_done, pause_recording, mute).
func IsCommand(m Message) bool {
	switch m.(type) {
	case Ready, NotReady, Accept, Reject, Hangup, Hold, DTMF, Transfer, WrapupDone, PauseRecording, Mute:
		return true
	}
	return isConsultCommand(m)
}

// envelope is the part common to every message.
type envelope struct {
	V    *int   `json:"v"`
	Type string `json:"type"`
}

// onWire detects a missing "on" in hold, pause_recording and mute.
type onWire struct {
	CallID string `json:"call_id"`
	On     *bool  `json:"on"`
}

// Decode parses and validates one message of either direction. It returns
// the message as a value of its concrete type (Hello, Accept, Ring, ...).
// Errors are *Error with a code for the reply: bad_json, too_large,
// version, unknown_type or invalid.
func Decode(data []byte) (Message, error) {
	if len(data) > MaxMessageBytes {
		return nil, errorf(CodeTooLarge, "", "message is %d bytes, the limit is %d", len(data), MaxMessageBytes)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errorf(CodeBadJSON, "", "a message must be one JSON object")
	}
	if !utf8.Valid(trimmed) {
		return nil, errorf(CodeBadJSON, "", "a message must be UTF-8")
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return nil, errorf(CodeBadJSON, "", "not valid JSON: %v", err)
	}
	if env.V == nil {
		return nil, errorf(CodeVersion, env.Type, "missing \"v\"; this server speaks version %d", Version)
	}
	if *env.V != Version {
		return nil, errorf(CodeVersion, env.Type, "version %d is not supported; this server speaks version %d", *env.V, Version)
	}
	if env.Type == "" {
		return nil, errorf(CodeUnknownType, "", "missing \"type\"")
	}
	m, err := decodeBody(env.Type, trimmed)
	if err != nil {
		return nil, err
	}
	if err := validate(m); err != nil {
		err.Ref = env.Type
		return nil, err
	}
	return m, nil
}

// decodeBody unmarshals data into the struct for typ.
func decodeBody(typ string, data []byte) (Message, error) {
	var (
		m   Message
		err error
	)
	switch typ {
	case TypeHello:
		m = Hello{}
	case TypeReady:
		m = Ready{}
	case TypeWebRTCOffer:
		m, err = unmarshal[WebRTCOffer](data)
	case TypeWebRTCAnswer:
		m, err = unmarshal[WebRTCAnswer](data)
	case TypeICE:
		m, err = unmarshal[ICE](data)
	case TypeNotReady:
		m, err = unmarshal[NotReady](data)
	case TypeAccept:
		m, err = unmarshal[Accept](data)
	case TypeReject:
		m, err = unmarshal[Reject](data)
	case TypeHangup:
		m, err = unmarshal[Hangup](data)
	case TypeHold, TypePauseRecording, TypeMute:
		var w onWire
		w, err = unmarshal[onWire](data)
		if err == nil && w.On == nil {
			return nil, errorf(CodeInvalid, typ, "missing \"on\" (true or false)")
		}
		if err == nil {
			switch typ {
			case TypeHold:
				m = Hold{CallID: w.CallID, On: *w.On}
			case TypePauseRecording:
				m = PauseRecording{CallID: w.CallID, On: *w.On}
			default:
				m = Mute{CallID: w.CallID, On: *w.On}
			}
		}
	case TypeDTMF:
		m, err = unmarshal[DTMF](data)
	case TypeTransfer:
		m, err = unmarshal[Transfer](data)
	case TypeWrapupDone:
		m, err = unmarshal[WrapupDone](data)
	case TypePing:
		m, err = unmarshal[Ping](data)
	case TypePong:
		m, err = unmarshal[Pong](data)
	case TypeWelcome:
		m, err = unmarshal[Welcome](data)
	case TypeState:
		m, err = unmarshal[State](data)
	case TypeRing:
		m, err = unmarshal[Ring](data)
	case TypeRingCancel:
		m, err = unmarshal[RingCancel](data)
	case TypeCall:
		m, err = unmarshal[Call](data)
	case TypeError:
		m, err = unmarshal[Error](data)
	case TypeMonitor:
		m, err = unmarshal[Monitor](data)
	default:
		var ok bool
		if m, ok, err = decodeConsult(typ, data); !ok {
			return nil, errorf(CodeUnknownType, typ, "unknown message type %q", truncate(typ, maxIDLen))
		}
	}
	if err != nil {
		return nil, errorf(CodeInvalid, typ, "%v", err)
	}
	return m, nil
}

// unmarshal decodes data into a new T.
func unmarshal[T any](data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// validate checks required fields and limits.
func validate(m Message) *Error {
	switch m := m.(type) {
	case WebRTCOffer:
		return checkSDP(m.SDP)
	case WebRTCAnswer:
		return checkSDP(m.SDP)
	case ICE:
		if m.Candidate != nil && len(m.Candidate.Candidate) > 1024 {
			return errorf(CodeInvalid, "", "candidate is too long")
		}
	case NotReady:
		return checkText("reason", m.Reason, maxReasonLen, true)
	case Accept:
		return checkID("call_id", m.CallID)
	case Reject:
		return checkID("call_id", m.CallID)
	case Hangup:
		return checkID("call_id", m.CallID)
	case Hold:
		return checkID("call_id", m.CallID)
	case PauseRecording:
		return checkID("call_id", m.CallID)
	case Mute:
		return checkID("call_id", m.CallID)
	case DTMF:
		if err := checkID("call_id", m.CallID); err != nil {
			return err
		}
		return checkDigits(m.Digits)
	case Transfer:
		if err := checkID("call_id", m.CallID); err != nil {
			return err
		}
		if (m.Queue == "") == (m.Agent == "") {
			return errorf(CodeInvalid, "", "exactly one of \"queue\" and \"agent\" is required")
		}
		if err := checkText("queue", m.Queue, maxIDLen, false); err != nil {
			return err
		}
		return checkText("agent", m.Agent, maxIDLen, false)
	case WrapupDone:
		if err := checkID("call_id", m.CallID); err != nil {
			return err
		}
		if err := checkText("note", m.Note, maxNoteLen, false); err != nil {
			return err
		}
		return checkText("disposition", m.Disposition, maxReasonLen, false)
	case State:
		return checkText("state", m.State, maxReasonLen, true)
	case Welcome:
		if m.Agent.ID == "" {
			return errorf(CodeInvalid, "", "missing \"agent.id\"")
		}
		return checkText("state", m.State, maxReasonLen, true)
	case Ring:
		return checkID("call_id", m.CallID)
	case RingCancel:
		return checkID("call_id", m.CallID)
	case Call:
		if err := checkID("call_id", m.CallID); err != nil {
			return err
		}
		if err := checkText("recording", m.Recording, maxReasonLen, false); err != nil {
			return err
		}
		return checkText("status", m.Status, maxReasonLen, true)
	case Error:
		return checkText("code", m.Code, maxReasonLen, true)
	case Monitor:
		if err := checkID("call_id", m.CallID); err != nil {
			return err
		}
		return checkText("mode", m.Mode, maxReasonLen, true)
	}
	return validateConsult(m)
}

// checkSDP checks an SDP body.
func checkSDP(sdp string) *Error {
	if sdp == "" {
		return errorf(CodeInvalid, "", "missing \"sdp\"")
	}
	if len(sdp) > maxSDPLen {
		return errorf(CodeInvalid, "", "\"sdp\" is longer than %d bytes", maxSDPLen)
	}
	if !strings.HasPrefix(sdp, "v=0") {
		return errorf(CodeInvalid, "", "\"sdp\" does not start with v=0")
	}
	return nil
}

// checkID checks a required identifier such as call_id.
func checkID(name, v string) *Error {
	return checkText(name, v, maxIDLen, true)
}

// checkText checks a text field's presence and length.
func checkText(name, v string, max int, required bool) *Error {
	if v == "" {
		if required {
			return errorf(CodeInvalid, "", "missing %q", name)
		}
		return nil
	}
	if len(v) > max {
		return errorf(CodeInvalid, "", "%q is longer than %d bytes", name, max)
	}
	return nil
}

// checkDigits checks DTMF digits.
func checkDigits(d string) *Error {
	if d == "" {
		return errorf(CodeInvalid, "", "missing \"digits\"")
	}
	if len(d) > maxDigits {
		return errorf(CodeInvalid, "", "at most %d digits at once", maxDigits)
	}
	for i := 0; i < len(d); i++ {
		if !strings.ContainsRune("0123456789*#ABCD", rune(d[i])) {
			return errorf(CodeInvalid, "", "%q is not a DTMF digit (0-9, *, #, A-D)", truncate(d[i:i+1], 8))
		}
	}
	return nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Encode returns the wire form of m: its fields plus "v" and "type".
func Encode(m Message) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("softphone: encode: nil message")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // SDP and notes stay readable, and no longer than sent
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("softphone: encode %s: %w", m.Type(), err)
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("softphone: encode %s: not a JSON object", m.Type())
	}
	out := make([]byte, 0, len(body)+32)
	out = fmt.Appendf(out, `{"v":%d,"type":%q`, Version, m.Type())
	if len(body) > 2 {
		out = append(out, ',')
		out = append(out, body[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}
