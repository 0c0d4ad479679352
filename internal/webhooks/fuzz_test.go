package webhooks

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParseEndpoints: any input either fails or yields endpoints that pass
// CheckEndpoints with their defaults filled in, and that survive a YAML
// round trip unchanged. The seed corpus is testdata/fuzz/FuzzParseEndpoints.
func FuzzParseEndpoints(f *testing.F) {
	f.Add([]byte("webhooks:\n  - name: crm\n    url: https://crm.example.com/hook\n    secret: whsec_0123456789abcdef\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		eps, err := ParseEndpoints(data)
		if err != nil {
			if eps != nil {
				t.Fatalf("endpoints and an error: %v", err)
			}
			return
		}
		if err := CheckEndpoints(eps); err != nil {
			t.Fatalf("parsed endpoints fail CheckEndpoints: %v", err)
		}
		for _, e := range eps {
			if e.Format == "" || len(e.Events) == 0 || e.Timeout <= 0 {
				t.Fatalf("defaults not applied: %+v", e)
			}
		}
		out, err := yaml.Marshal(map[string][]Endpoint{"webhooks": eps})
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseEndpoints(out)
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		if len(again) != len(eps) {
			t.Fatalf("round trip: %d endpoints, want %d", len(again), len(eps))
		}
		for i := range eps {
			a, b := eps[i], again[i]
			if a.Name != b.Name || a.URL != b.URL || a.Format != b.Format || a.Secret != b.Secret ||
				a.SecretFile != b.SecretFile || a.Timeout != b.Timeout || len(a.Events) != len(b.Events) {
				t.Fatalf("round trip changed an endpoint:\n%+v\n%+v", a, b)
			}
		}
	})
}
