package frontend

import (
	"context"
	"errors"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
)

// redactedSource returns src with its data — what errors, warnings and
// the LLB source map show the client — replaced by a copy in which secret
// values are masked (dockerfilecheck.RedactFile). dockerui's Warn fills in the
// source it captured when it read the file, so warnings get the redacted
// source here first. Secrets are never printed: not in a snippet, not in
// the whole file that --progress rawjson passes on.
// model is src parsed, nil when it does not parse.
func redactedSource(src *dockerui.Source, model *dockerfilemodel.File) *dockerui.Source {
	sm := *src.SourceMap
	sm.Data = dockerfilecheck.RedactFile(src.Data, model)
	info := &pb.SourceInfo{Data: sm.Data, Filename: sm.Filename, Language: sm.Language, Definition: sm.Definition.ToPB()}
	warn := src.Warn
	return &dockerui.Source{
		SourceMap: &sm,
		Warn: func(ctx context.Context, msg string, opts client.WarnOpts) {
			if opts.SourceInfo == nil {
				opts.SourceInfo = info
			}
			warn(ctx, msg, opts)
		},
	}
}

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
