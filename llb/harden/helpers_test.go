package harden

import (
	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
)

type digestT = digest.Digest

func llbScratchState() llb.State { return llb.Scratch() }
