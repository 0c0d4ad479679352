// The browser softphone shared by the pages: agent protocol v1
// (internal/softphone) over one WebSocket (GET /api/v1/agent/ws), one
// RTCPeerConnection per WebSocket session made right after `welcome`, and the
// microphone. The page owns what is on screen; this file owns the socket, the
// peer and the microphone, and tells the page through the callbacks of
// HotlineSoftphone.create. The supervisor page uses it for listening in
// (monitor, whisper, barge); it follows agent.js's softphone code, which may
// move here too.
'use strict';

(function () {
  const PROTOCOL = 1;
  const PING_MS = 3000;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 10000;
  const GATHER_WAIT_MS = 1000;
  // The server closes a page's WebSocket with this code when the same user
  // connects from another page (a reload or a second tab).
  const CLOSE_REPLACED = 4000;

  // create makes one softphone. o: audio (the <audio> element that plays
  // the remote stream), raw (no voice processing on the microphone),
  // onMessage(msg) for every server message but the WebRTC signalling,
  // onConn(key, up) with the connection's i18n key, onReplaced() when
  // another page took over, onMic(err) (null: the microphone is open),
  // onAudioFailed(), onSendFailed(), and reauth() → Promise<bool>, called
  // before a reconnect (false: stop, the page is leaving).
  function create(o) {
    const opt = Object.assign({
      audio: null,
      raw: false,
      onMessage() {},
      onConn() {},
      onReplaced() {},
      onMic() {},
      onAudioFailed() {},
      onSendFailed() {},
      reauth: async () => true,
    }, o);
    const s = {
      ws: null, backoff: 0, reconnectTimer: null, pingTimer: null,
      pc: null, pcGen: 0, iceServers: [], mic: null, muted: false, leaving: false, stopped: false,
    };

    function send(msg) {
      const ws = s.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        opt.onSendFailed();
        return false;
      }
      ws.send(JSON.stringify(Object.assign({ v: PROTOCOL }, msg)));
      return true;
    }

    function closePeer() {
      s.pcGen++;
      if (s.pc) {
        try { s.pc.close(); } catch (e) { /* already closed */ }
      }
      s.pc = null;
    }

    function connect() {
      clearTimeout(s.reconnectTimer);
      if (s.leaving) return;
      s.stopped = false;
      const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/agent/ws';
      const ws = new WebSocket(url);
      s.ws = ws;
      ws.onopen = () => {
        if (s.ws !== ws) return;
        opt.onConn('conn_up', true);
        send({ type: 'hello' });
        clearInterval(s.pingTimer);
        s.pingTimer = setInterval(() => send({ type: 'ping', t: Date.now() }), PING_MS);
      };
      ws.onmessage = (ev) => {
        if (s.ws !== ws) return;
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (e) {
          console.warn('hotline: not JSON from the server', e);
          return;
        }
        if (msg && msg.v === PROTOCOL) {
          if (msg.type === 'welcome') {
            s.backoff = 0;
            s.iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
          }
          if (msg.type === 'webrtc_answer') return void answer(msg);
          if (msg.type === 'ice') return void remoteIce(msg);
        }
        opt.onMessage(msg);
        if (msg && msg.v === PROTOCOL && msg.type === 'welcome') startPeer();
      };
      ws.onclose = (ev) => {
        if (s.ws !== ws) return;
        clearInterval(s.pingTimer);
        s.ws = null;
        if (s.leaving) return;
        if (ev.code === CLOSE_REPLACED) {
          // The user opened a softphone elsewhere; two pages must not fight
          // over it, so this one stops until asked again (connect()).
          s.stopped = true;
          closePeer();
          opt.onConn('conn_replaced', false);
          opt.onReplaced();
          return;
        }
        opt.onConn('conn_down', false);
        scheduleReconnect();
      };
    }

    // scheduleReconnect tries again with exponential backoff and jitter.
    function scheduleReconnect() {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, s.backoff));
      s.backoff++;
      const delay = base / 2 + Math.random() * base / 2;
      s.reconnectTimer = setTimeout(async () => {
        try {
          if (!(await opt.reauth())) return;
        } catch (e) {
          scheduleReconnect();
          return;
        }
        connect();
      }, delay);
    }

    async function getMic() {
      if (s.mic) return s.mic;
      const audio = opt.raw ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false } : true;
      s.mic = await navigator.mediaDevices.getUserMedia({ audio, video: false });
      s.mic.getAudioTracks().forEach((tr) => { tr.enabled = !s.muted; });
      return s.mic;
    }

    function iceServers() {
      return s.iceServers.filter((x) => x && x.urls).map((x) => {
        const out = { urls: x.urls };
        if (x.username) out.username = x.username;
        if (x.credential) out.credential = x.credential;
        return out;
      });
    }

    // startPeer makes the one peer connection of this WebSocket session and
    // sends the offer once ICE gathering completes (or after GATHER_WAIT_MS
    // with the candidates so far; later ones follow as `ice`).
    async function startPeer() {
      closePeer();
      const gen = s.pcGen;
      let stream = null;
      try {
        stream = await getMic();
        opt.onMic(null);
      } catch (e) {
        opt.onMic(e);
      }
      if (gen !== s.pcGen) return;
      const pc = new RTCPeerConnection({ iceServers: iceServers() });
      s.pc = pc;
      if (stream) stream.getAudioTracks().forEach((tr) => pc.addTrack(tr, stream));
      else pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.ontrack = (ev) => {
        const el = opt.audio;
        if (!el) return;
        el.srcObject = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
        el.play().catch(() => { /* autoplay: plays on the next click */ });
      };
      let offerSent = false;
      pc.onicecandidate = (ev) => {
        if (offerSent && ev.candidate && gen === s.pcGen) send({ type: 'ice', candidate: ev.candidate.toJSON() });
      };
      pc.onconnectionstatechange = () => {
        if (gen !== s.pcGen) return;
        document.body.dataset.rtc = pc.connectionState;
        if (pc.connectionState === 'failed' && s.ws && s.ws.readyState === WebSocket.OPEN) {
          opt.onAudioFailed();
          setTimeout(() => { if (gen === s.pcGen) startPeer(); }, 1000);
        }
      };
      try {
        await pc.setLocalDescription(await pc.createOffer());
        await gathered(pc, GATHER_WAIT_MS);
        if (gen !== s.pcGen) return;
        offerSent = true;
        send({ type: 'webrtc_offer', sdp: pc.localDescription.sdp });
      } catch (e) {
        console.warn('hotline: offer', e);
        opt.onAudioFailed();
      }
    }

    function gathered(pc, maxMs) {
      if (pc.iceGatheringState === 'complete') return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          pc.removeEventListener('icegatheringstatechange', check);
          resolve();
        };
        const check = () => { if (pc.iceGatheringState === 'complete') done(); };
        const timer = setTimeout(done, maxMs);
        pc.addEventListener('icegatheringstatechange', check);
      });
    }

    async function answer(msg) {
      if (!s.pc || !msg.sdp) return;
      try {
        await s.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      } catch (e) {
        console.warn('hotline: answer', e);
        opt.onAudioFailed();
      }
    }

    async function remoteIce(msg) {
      if (!s.pc || !msg.candidate) return;
      try {
        await s.pc.addIceCandidate(msg.candidate);
      } catch (e) {
        console.warn('hotline: remote candidate', e);
      }
    }

    return {
      connect,
      send,
      // setMuted turns the microphone off (true) or on.
      setMuted(on) {
        s.muted = !!on;
        if (s.mic) s.mic.getAudioTracks().forEach((tr) => { tr.enabled = !s.muted; });
      },
      // leave closes the socket for good (sign-out, another page).
      leave(code, reason) {
        s.leaving = true;
        clearTimeout(s.reconnectTimer);
        if (s.ws) s.ws.close(code || 1000, reason || 'leaving');
        closePeer();
      },
      stopped: () => s.stopped,
      up: () => !!s.ws && s.ws.readyState === WebSocket.OPEN,
      rtc: () => (s.pc ? s.pc.connectionState : 'none'),
    };
  }

  window.HotlineSoftphone = { PROTOCOL, create };
})();
