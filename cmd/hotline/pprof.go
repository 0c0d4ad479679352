package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"sync"
	"time"
)

// profiler serves Go's runtime profiles (/debug/pprof/) on a loopback
// address of its own, apart from the API: `serve --pprof 127.0.0.1:6060`.
// make bench-load -profile reads the heap and CPU profiles from it at full
// load. It is off unless asked for.
type profiler struct {
	srv  *http.Server
	ln   net.Listener
	wg   sync.WaitGroup
	once sync.Once
	err  error
}

// startProfiler listens on addr, which must be a loopback address (the
// profiles show the process's internals to whoever reads them).
func startProfiler(addr string, log *slog.Logger) (*profiler, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof %q: want a loopback IP:port: %w", addr, err)
	}
	if !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("--pprof %q: the profiles are served on loopback addresses only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p := &profiler{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof server stopped", "err", err)
		}
	}()
	log.Info("runtime profiles served", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return p, nil
}

// Close stops the server and waits for it; it is safe to call more than once.
func (p *profiler) Close() error {
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p.err = p.srv.Shutdown(ctx)
		p.wg.Wait()
	})
	return p.err
}
