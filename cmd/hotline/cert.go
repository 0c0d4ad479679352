package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Names of the files `hotline cert` writes into --out.
const (
	certFileName = "cert.pem"
	keyFileName  = "key.pem"
)

// selfSignedFor is how long a self-signed certificate is valid.
const selfSignedFor = 365 * 24 * time.Hour

// defaultCertHosts are always in a self-signed certificate, so the node's
// own machine reaches it by either name.
var defaultCertHosts = []string{"localhost", "127.0.0.1", "::1"}

// certCmd is `hotline cert --host NAME[,IP...] --out DIR`: it writes a
// self-signed pair for a LAN trial of HTTPS and prints the config to use it.
func certCmd(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("cert", flag.ContinueOnError)
	fl.SetOutput(stderr)
	hosts := fl.String("host", "", "names and IP addresses agents reach the node by, comma-separated (localhost and 127.0.0.1 are always in)")
	out := fl.String("out", ".", "directory to write "+certFileName+" and "+keyFileName+" into")
	force := fl.Bool("force", false, "overwrite an existing pair")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: hotline cert --host NAME[,IP...] [--out DIR] [--force]\n\n"+
			"Writes a self-signed certificate (ECDSA P-256, valid one year) and its key for\n"+
			"a trial on a LAN. Browsers warn about it until it is trusted; use a real\n"+
			"certificate (or a TLS-terminating proxy) in production.\n\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return usageError{err}
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return usageError{fmt.Errorf("unexpected arguments %q", fl.Args())}
	}
	certPath, keyPath, err := writeSelfSigned(*out, strings.Split(*hosts, ","), *force, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s; in the configuration:\n\nhttp:\n  tls_cert: %s\n  tls_key: %s\n",
		certPath, keyPath, certPath, keyPath)
	return nil
}

// writeSelfSigned writes a self-signed certificate for hosts (names and IP
// addresses; the defaultCertHosts are added) and its key into dir, and
// returns their paths. The key file is readable by its owner only. An
// existing pair is kept unless force.
func writeSelfSigned(dir string, hosts []string, force bool, now time.Time) (certPath, keyPath string, err error) {
	var names []string
	var ips []net.IP
	cn := ""
	for _, h := range append(slices.Clone(hosts), defaultCertHosts...) {
		h = strings.TrimSpace(h)
		if cn == "" {
			cn = h
		}
		switch ip := net.ParseIP(h); {
		case h == "":
		case ip != nil:
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		case strings.ContainsAny(h, " /:@"):
			return "", "", fmt.Errorf("--host: %q is neither a host name nor an IP address", h)
		default:
			if !slices.Contains(names, strings.ToLower(h)) {
				names = append(names, strings.ToLower(h))
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"hotline self-signed"}},
		NotBefore:    now.Add(-time.Hour), // a little clock skew
		NotAfter:     now.Add(selfSignedFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
		// A server certificate, not a CA: browsers refuse a CA certificate
		// as a site's own, and it can sign nothing else.
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, certFileName), filepath.Join(dir, keyFileName)
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags |= os.O_EXCL
		for _, p := range []string{certPath, keyPath} {
			if _, err := os.Stat(p); err == nil {
				return "", "", fmt.Errorf("%s exists; pass --force to replace the pair", p)
			}
		}
	}
	for _, f := range []struct {
		path, kind string
		der        []byte
		mode       os.FileMode
	}{
		{keyPath, "PRIVATE KEY", keyDER, 0o600},
		{certPath, "CERTIFICATE", der, 0o644},
	} {
		if err := writePEM(f.path, flags, f.mode, f.kind, f.der); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return "", "", fmt.Errorf("%s exists; pass --force to replace the pair", f.path)
			}
			return "", "", err
		}
	}
	return certPath, keyPath, nil
}

// writePEM writes one PEM block to path, opened with flags and mode.
func writePEM(path string, flags int, mode os.FileMode, kind string, der []byte) error {
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: kind, Bytes: der}); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
