package frontend

import (
	"errors"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
)

// withDockerfileSource attaches the Dockerfile snippet to errors that carry
// a parser location, so the client prints file, line and source like
// dockerfile.v0 does instead of a bare message.
func withDockerfileSource(err error, sm *llb.SourceMap) error {
	if err == nil || sm == nil {
		return err
	}
	var le *parser.LocationError
	if !errors.As(err, &le) {
		return err
	}
	for _, loc := range le.Locations {
		err = WithSource(err, sm, loc)
	}
	return err
}

// WithSource wraps err with the Dockerfile ranges it is about. Every
// hardenkit error that concerns a Dockerfile instruction goes through it.
func WithSource(err error, sm *llb.SourceMap, ranges []parser.Range) error {
	if sm == nil {
		return err
	}
	return errdefs.WithSource(err, &errdefs.Source{
		Info: &pb.SourceInfo{
			Data:       sm.Data,
			Filename:   sm.Filename,
			Language:   sm.Language,
			Definition: sm.Definition.ToPB(),
		},
		Ranges: toPBRanges(ranges),
	})
}

// warnOpts builds a progress warning that the client shows with the
// Dockerfile snippet at ranges.
func warnOpts(ranges []parser.Range, detail [][]byte, url string) client.WarnOpts {
	opts := client.WarnOpts{Level: 1, Detail: detail, URL: url}
	if ranges != nil {
		opts.Range = toPBRanges(ranges)
	}
	return opts
}

func toPBRanges(ranges []parser.Range) []*pb.Range {
	out := make([]*pb.Range, 0, len(ranges))
	for _, r := range ranges {
		out = append(out, &pb.Range{
			Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(r.Start.Character)},
			End:   &pb.Position{Line: int32(r.End.Line), Character: int32(r.End.Character)},
		})
	}
	return out
}
