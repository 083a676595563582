// Package inspect checks what a build really ships: the final root
// filesystem, the image config and its history, and the build arguments,
// just before export. Build-time controls say what was meant; inspection
// proves what is there.
//
// Each check is a catalog rule (HK3xxx, stage "image") in its own file,
// which starts with the rule ids it owns and their CIS Docker Benchmark
// mapping. Run evaluates every rule the policy does not switch off and
// returns findings at the policy's level and a status per rule: pass,
// fail, warn, waived (after exceptions, see Result.WithFindings) or
// error. A check that cannot run — an unreadable file, a cancelled
// context — is an error for its rules and for Run: inspection fails
// closed, it never passes what it did not look at.
//
// Secrets are found by frontend/secrets and reported like every other
// finding, by rule, place and fingerprint, never by value.
//
// Run works on any rootfs.Source: the gateway's ReadDir/ReadFile when the
// frontend runs in-process, or a directory when the frontend re-runs its
// own binary as a scanner step with the candidate root filesystem mounted
// (ScanDir), which avoids a gateway round trip per file.
package inspect
