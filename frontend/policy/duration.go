package policy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a span written with days, as policies need ("90d", "36h",
// "1d12h"). time.ParseDuration has no day unit, and exception lifetimes are
// naturally counted in days.
type Duration time.Duration

// Day is 24 hours; policies count calendar-free days, not local days with
// DST changes.
const Day = 24 * time.Hour

var durationUnits = map[byte]time.Duration{
	'd': Day,
	'h': time.Hour,
	'm': time.Minute,
	's': time.Second,
}

// ParseDuration parses one or more <integer><unit> terms with units d, h, m
// and s, largest first ("90d", "1d12h", "45m"). Fractions, signs and other
// units are errors.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	rest := s
	lastUnit := time.Duration(math.MaxInt64)
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("duration %q: want <number><unit>, units d, h, m, s (e.g. 90d)", s)
		}
		if i == len(rest) {
			return 0, fmt.Errorf("duration %q: number %s has no unit (d, h, m or s)", s, rest)
		}
		unit, ok := durationUnits[rest[i]]
		if !ok {
			return 0, fmt.Errorf("duration %q: unknown unit %q (want d, h, m or s)", s, rest[i])
		}
		if unit >= lastUnit {
			return 0, fmt.Errorf("duration %q: units must go from largest to smallest, each once", s)
		}
		lastUnit = unit
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	return total, nil
}

// String formats d canonically, largest units first ("90d", "1d12h", "0s"),
// so that equal spans print, and hash, the same however they were written.
func (d Duration) String() string {
	v := time.Duration(d)
	if v == 0 {
		return "0s"
	}
	var b strings.Builder
	if v < 0 {
		// Not produced by ParseDuration; formatted for completeness.
		b.WriteByte('-')
		if v == math.MinInt64 {
			return time.Duration(v).String()
		}
		v = -v
	}
	for _, u := range []struct {
		unit time.Duration
		name byte
	}{{Day, 'd'}, {time.Hour, 'h'}, {time.Minute, 'm'}, {time.Second, 's'}} {
		if n := v / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteByte(u.name)
			v -= n * u.unit
		}
	}
	if v > 0 {
		// Sub-second remainders cannot be parsed back; keep them visible.
		b.WriteString(v.String())
	}
	return b.String()
}

// MarshalJSON writes the canonical string form.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(d.String())), nil
}

// UnmarshalJSON reads the string form MarshalJSON writes, so that a
// policy's JSON form (CanonicalJSON) decodes back to the same policy: the
// in-build scanner receives the effective policy that way.
func (d *Duration) UnmarshalJSON(dt []byte) error {
	s, err := strconv.Unquote(string(dt))
	if err != nil {
		return fmt.Errorf("duration: %s is not a JSON string", dt)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
