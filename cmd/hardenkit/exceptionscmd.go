package main

// hardenkit exceptions sign: an approver signs an exceptions file.
//
// The signature format is frontend/exceptions' (a DSSE envelope per record,
// Ed25519 or ECDSA P-256, docs/exceptions.md#signing); this command only
// loads a key, calls exceptions.Sign for every record and writes the
// envelopes into the file. Keys are the ones `hardenkit keygen` (cosign's
// format, ECDSA P-256, password-encrypted) or `openssl genpkey` (PKCS#8)
// write; the public half goes into the policy's approverKeys.

import (
	"bytes"
	"crypto"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sigstore/cosign/v3/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
)

func newExceptionsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exceptions",
		Short: "Work with exceptions files (sign them as an approver)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newExceptionsSignCommand())
	return cmd
}

// signOptions are the flags of `hardenkit exceptions sign`.
type signOptions struct {
	key    string
	keyID  string
	output string
}

func newExceptionsSignCommand() *cobra.Command {
	var o signOptions
	cmd := &cobra.Command{
		Use:   "sign --key KEY [--key-id ID] [--output OUT] FILE",
		Short: "Sign every record of an exceptions file with an approver key",
		Long: `sign adds to every record of the exceptions file FILE a DSSE signature by the
approver key KEY (docs/exceptions.md#signing), replacing a signature the record
had, and writes the file back (or to --output). Comments and layout of a YAML
file are kept; a JSON file stays JSON.

KEY is a private key from "hardenkit keygen --output-prefix approver"
(approver.key, cosign's encrypted format; the password comes from
$COSIGN_PASSWORD or a prompt) or an unencrypted PKCS#8 PEM key
("openssl genpkey -algorithm ed25519"). The public key (approver.pub) goes into
the policy's controls.exceptions.approverKeys. --key-id is a hint stored with
the signature (default: the key's sha256 id); verification never relies on it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExceptionsSign(cmd.OutOrStdout(), args[0], o, passworder())
		},
	}
	cmd.Flags().StringVar(&o.key, "key", "", "approver private key file (required)")
	cmd.Flags().StringVar(&o.keyID, "key-id", "", "key id hint stored with each signature (default: sha256 of the public key)")
	cmd.Flags().StringVar(&o.output, "output", "", "write the signed file here (default: FILE itself)")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func runExceptionsSign(w io.Writer, file string, o signOptions, pw keys.Passworder) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading exceptions file: %w", err)
	}
	set, err := exceptions.Parse(file, data, catalog.Known)
	if err != nil {
		return fmt.Errorf("the exceptions file does not parse, so it is not signed:\n%w", err)
	}
	signer, err := loadApproverKey(o.key, pw)
	if err != nil {
		return err
	}
	pub := signer.Public()
	keyID, err := exceptions.KeyID(pub)
	if err != nil {
		return fmt.Errorf("identifying key %s: %w", o.key, err)
	}
	hint := o.keyID
	if hint == "" {
		hint = keyID
	}
	envs := make([]*exceptions.Envelope, len(set.Exceptions))
	for i, rec := range set.Exceptions {
		if envs[i], err = exceptions.Sign(rec, signer, hint); err != nil {
			return fmt.Errorf("%s:%d: %w", file, rec.Line, err)
		}
	}
	out, err := withSignatures(data, set, envs)
	if err != nil {
		return fmt.Errorf("writing signatures into %s: %w", file, err)
	}
	// What is written must verify with the key as the frontend will
	// verify it: a file that would fail the build is not written.
	if err := checkSigned(file, out, []crypto.PublicKey{pub}); err != nil {
		return err
	}
	dest := o.output
	if dest == "" {
		dest = file
	}
	if err := writeFileAtomic(dest, out); err != nil {
		return err
	}
	fmt.Fprintf(w, "signed %d exception(s) of %s with key %s; wrote %s\nthe policy's controls.exceptions.approverKeys must hold this key's public half\n", len(envs), file, keyID, dest)
	return nil
}

// loadApproverKey reads a private key that can sign exceptions: cosign's
// encrypted format (hardenkit keygen) or an unencrypted PEM key (PKCS#8,
// SEC 1). An Ed25519 key signs pure Ed25519, as exceptions.Verify checks.
// Errors never contain key bytes or the password.
func loadApproverKey(path string, pw keys.Passworder) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("key %s: not a PEM file", path)
	}
	var k any
	switch block.Type {
	case cosign.CosignPrivateKeyPemType, cosign.SigstorePrivateKeyPemType:
		pass, err := pw(false)
		if err != nil {
			return nil, err
		}
		// Explicit empty options: cosign's defaults would sign Ed25519
		// keys pre-hashed (Ed25519ph), which the exceptions format is not.
		sv, err := cosign.LoadPrivateKey(data, pass, &[]signature.LoadOption{})
		if err != nil {
			return nil, fmt.Errorf("key %s: loading it failed: wrong password or not a cosign private key", path)
		}
		k = sv
	default:
		pk, err := cryptoutils.UnmarshalPEMToPrivateKey(data, cryptoutils.SkipPassword)
		if err != nil {
			return nil, fmt.Errorf("key %s: a %q PEM block is not a private key hardenkit reads (want one from hardenkit keygen, or PKCS#8 from openssl genpkey)", path, block.Type)
		}
		k = pk
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %s: %T cannot sign", path, k)
	}
	return s, nil
}

// yamlEnvelope is exceptions.Envelope with the file's key names.
type yamlEnvelope struct {
	PayloadType string         `yaml:"payloadType"`
	Payload     string         `yaml:"payload"`
	Signatures  []yamlSigEntry `yaml:"signatures"`
}

type yamlSigEntry struct {
	KeyID string `yaml:"keyid,omitempty"`
	Sig   string `yaml:"sig"`
}

// withSignatures returns the file data with envs[i] as the signature of
// the i-th record of set, editing the YAML node tree so comments and
// order stay. JSON input is written back as indented JSON.
func withSignatures(data []byte, set *exceptions.Set, envs []*exceptions.Envelope) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("not one YAML document")
	}
	list := mappingValue(doc.Content[0], "exceptions")
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) != len(envs) {
		return nil, errors.New("the exceptions list is not where Parse found it")
	}
	for i, item := range list.Content {
		if id := mappingValue(item, "id"); id == nil || id.Value != set.Exceptions[i].ID {
			return nil, fmt.Errorf("record %d is not exception %q", i+1, set.Exceptions[i].ID)
		}
		e := envs[i]
		ye := yamlEnvelope{PayloadType: e.PayloadType, Payload: e.Payload}
		for _, s := range e.Signatures {
			ye.Signatures = append(ye.Signatures, yamlSigEntry{KeyID: s.KeyID, Sig: s.Sig})
		}
		var v yaml.Node
		if err := v.Encode(ye); err != nil {
			return nil, err
		}
		if old := mappingValue(item, "signature"); old != nil {
			*old = v
		} else {
			item.Content = append(item.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "signature"}, &v)
		}
	}
	if isJSON(data) {
		var v any
		if err := doc.Decode(&v); err != nil {
			return nil, err
		}
		out, err := json.MarshalIndent(v, "", "  ")
		return append(out, '\n'), err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// mappingValue returns the value of key in mapping m, nil when absent.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// isJSON reports whether data is a JSON object (JSON is also YAML).
func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(t) > 0 && t[0] == '{'
}

// checkSigned parses out as the frontend will and verifies every record's
// signature with keys.
func checkSigned(file string, out []byte, pub []crypto.PublicKey) error {
	set, err := exceptions.Parse(file, out, catalog.Known)
	if err != nil {
		return fmt.Errorf("the signed file does not parse (a bug in hardenkit, nothing was written): %w", err)
	}
	for _, e := range set.Exceptions {
		if err := exceptions.Verify(e.Signature, e, pub); err != nil {
			return fmt.Errorf("exception %q: the new signature does not verify (a bug in hardenkit, nothing was written): %w", e.ID, err)
		}
	}
	return nil
}

// writeFileAtomic replaces path with data, keeping an existing file's
// mode, so an interrupted write never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hardenkit-sign-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
