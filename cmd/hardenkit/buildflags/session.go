package buildflags

import (
	"fmt"
	"io"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"

	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

// ParseSecrets parses --secret values: "id=NAME[,src=PATH|env=VAR]" with an
// optional type=file|env, as in buildx. Without src or env, the secret is
// read from the environment variable NAME if set, else from the file NAME
// (secretsprovider's rule). Error messages name keys and ids only, never a
// field's value, so a mistyped secret cannot end up in a log.
func ParseSecrets(values []string) ([]secretsprovider.Source, error) {
	out := make([]secretsprovider.Source, 0, len(values))
	seen := map[string]bool{}
	for i, v := range values {
		fields, err := splitCSV(v)
		if err != nil {
			return nil, fmt.Errorf("invalid --secret #%d: not valid CSV", i+1)
		}
		var s secretsprovider.Source
		var typ string
		for _, f := range fields {
			k, val, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("invalid --secret #%d: a field is not key=value", i+1)
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "type":
				if val != "file" && val != "env" {
					return nil, fmt.Errorf("invalid --secret #%d: type must be file or env", i+1)
				}
				typ = val
			case "id":
				s.ID = val
			case "src", "source":
				s.FilePath = val
			case "env":
				s.Env = val
			default:
				return nil, fmt.Errorf("invalid --secret #%d: unknown key %q (valid: id, src, source, env, type)", i+1, k)
			}
		}
		if typ == "env" && s.Env == "" {
			// type=env,src=VAR names the variable in src, as in buildx.
			s.Env, s.FilePath = s.FilePath, ""
		}
		if s.ID == "" {
			return nil, fmt.Errorf("invalid --secret #%d: id is required", i+1)
		}
		if s.FilePath != "" && s.Env != "" {
			return nil, fmt.Errorf("invalid --secret %s: give either src or env, not both", s.ID)
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("invalid --secret %s: id given more than once", s.ID)
		}
		seen[s.ID] = true
		out = append(out, s)
	}
	return out, nil
}

// ParseSSH parses --ssh values: "default", "ID" (the SSH agent at
// $SSH_AUTH_SOCK) or "ID=PATH[,PATH...]" (agent sockets or private keys),
// as in buildx and buildctl.
func ParseSSH(values []string) ([]sshprovider.AgentConfig, error) {
	out := make([]sshprovider.AgentConfig, 0, len(values))
	seen := map[string]bool{}
	for _, v := range values {
		id, paths, hasPaths := strings.Cut(v, "=")
		if id == "" {
			return nil, fmt.Errorf("invalid --ssh %q: expected default or ID[=PATH[,PATH]]", v)
		}
		if seen[id] {
			return nil, fmt.Errorf("invalid --ssh %q: id %s given more than once", v, id)
		}
		seen[id] = true
		cfg := sshprovider.AgentConfig{ID: id}
		if hasPaths {
			for _, p := range strings.Split(paths, ",") {
				if p == "" {
					return nil, fmt.Errorf("invalid --ssh %q: empty path", v)
				}
				cfg.Paths = append(cfg.Paths, p)
			}
		}
		out = append(out, cfg)
	}
	return out, nil
}

// SessionAttachables serves a build's registry auth (the docker config),
// its --secret values and its --ssh agents; warnings about the docker
// config go to warn.
func SessionAttachables(secrets, ssh []string, warn io.Writer) ([]session.Attachable, error) {
	att := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerconfig.LoadDefaultConfigFile(warn)),
	})}
	if len(secrets) > 0 {
		sources, err := ParseSecrets(secrets)
		if err != nil {
			return nil, err
		}
		store, err := secretsprovider.NewStore(sources)
		if err != nil {
			return nil, fmt.Errorf("--secret: %w", err)
		}
		att = append(att, secretsprovider.NewSecretProvider(store))
	}
	if len(ssh) > 0 {
		cfgs, err := ParseSSH(ssh)
		if err != nil {
			return nil, err
		}
		sp, err := sshprovider.NewSSHAgentProvider(cfgs)
		if err != nil {
			return nil, fmt.Errorf("--ssh: %w", err)
		}
		att = append(att, sp)
	}
	return att, nil
}
