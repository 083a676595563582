package options

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KeySourceDateEpoch is the build arg that sets every timestamp of the
// image, as in BuildKit's dockerfile.v0: unix seconds, or a symbolic value
// dockerfile2llb resolves ("context", a named context, a stage).
const KeySourceDateEpoch = "SOURCE_DATE_EPOCH"

// MaxEpoch is the last second an image timestamp can hold: 9999-12-31
// 23:59:59 UTC. The OCI config's "created" is RFC 3339, whose year has four
// digits, so a later time cannot be written (Go's Time.MarshalJSON fails).
const MaxEpoch = 253402300799

// epochRemedy says what a valid SOURCE_DATE_EPOCH looks like.
const epochRemedy = "give whole unix seconds between 0 and 253402300799 (e.g. --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)), or \"context\""

// ValidateEpochArg checks a SOURCE_DATE_EPOCH build arg before it reaches
// dockerfile2llb, which reads anything that is not an integer as the name
// of a context or stage ("invalid context name  5") and accepts integers
// no image timestamp can hold. Symbolic values are left to dockerfile2llb.
func ValidateEpochArg(value string) error {
	if value == "" {
		return nil
	}
	if strings.TrimSpace(value) != value {
		return fmt.Errorf("build arg %s=%q has white space around it: %s", KeySourceDateEpoch, value, epochRemedy)
	}
	if !looksNumeric(value) {
		if strings.ContainsAny(value, " \t\r\n") {
			return fmt.Errorf("build arg %s=%q contains white space: %s", KeySourceDateEpoch, value, epochRemedy)
		}
		return nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return fmt.Errorf("build arg %s=%q is not a whole number of seconds in range: %s", KeySourceDateEpoch, value, epochRemedy)
	}
	return CheckEpoch(KeySourceDateEpoch+"="+value, n)
}

// CheckEpoch fails when n unix seconds cannot be an image timestamp; what
// names where n came from.
func CheckEpoch(what string, n int64) error {
	switch {
	case n < 0:
		return fmt.Errorf("%s is before 1970-01-01: %s", what, epochRemedy)
	case n > MaxEpoch:
		return fmt.Errorf("%s is after 9999-12-31T23:59:59Z, which an image's RFC 3339 \"created\" cannot hold: %s", what, epochRemedy)
	}
	return nil
}

// CheckEpochTime is CheckEpoch for a resolved time.
func CheckEpochTime(what string, t time.Time) error {
	return CheckEpoch(fmt.Sprintf("%s (%s)", what, t.UTC().Format("2006-01-02T15:04:05Z07:00")), t.Unix())
}

// looksNumeric reports whether v is meant as a number: an optional sign
// followed by digits, dots or exponent letters only ("5", "-1", "1e9",
// "1.5").
func looksNumeric(v string) bool {
	v = strings.TrimLeft(v, "+-")
	if v == "" || v[0] < '0' || v[0] > '9' {
		return false
	}
	for _, r := range v {
		if (r < '0' || r > '9') && r != '.' && r != 'e' && r != 'E' && r != '+' && r != '-' {
			return false
		}
	}
	return true
}
