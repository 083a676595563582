package evidencereport

import (
	"encoding/json"
	"sort"

	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// provenance fills in the rebuild instructions from BuildKit's SLSA
// provenance (v1 or v0.2, whichever is attached): the build's source, its
// frontend and its build args. Provenance it cannot read leaves them
// empty — the page then says only what the compliance statement records.
func provenance(stmts map[string]json.RawMessage, rb *Rebuild) {
	type request struct {
		Frontend string            `json:"frontend"`
		Args     map[string]string `json:"args"`
	}
	type source struct {
		URI    string            `json:"uri"`
		Digest map[string]string `json:"digest"`
	}
	var req request
	var src source
	if raw, ok := stmts[verify.PredicateSLSA1]; ok {
		var p struct {
			BuildDefinition struct {
				ExternalParameters struct {
					ConfigSource source  `json:"configSource"`
					Request      request `json:"request"`
				} `json:"externalParameters"`
			} `json:"buildDefinition"`
		}
		if json.Unmarshal(raw, &p) != nil {
			return
		}
		req, src = p.BuildDefinition.ExternalParameters.Request, p.BuildDefinition.ExternalParameters.ConfigSource
	} else if raw, ok := stmts[verify.PredicateSLSA02]; ok {
		var p struct {
			Invocation struct {
				ConfigSource source  `json:"configSource"`
				Parameters   request `json:"parameters"`
			} `json:"invocation"`
		}
		if json.Unmarshal(raw, &p) != nil {
			return
		}
		req, src = p.Invocation.Parameters, p.Invocation.ConfigSource
	}
	rb.Frontend = req.Frontend
	if s, ok := req.Args["source"]; ok && req.Frontend == "gateway.v0" {
		rb.Frontend = s
	}
	rb.Source = src.URI
	for _, alg := range []string{"sha1", "sha256"} {
		if d := src.Digest[alg]; d != "" {
			rb.Revision = d
			break
		}
	}
	for k, v := range req.Args {
		rb.Args = append(rb.Args, [2]string{k, v})
	}
	sort.Slice(rb.Args, func(i, j int) bool { return rb.Args[i][0] < rb.Args[j][0] })
}
