package keep

import (
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// TestRebaseJVMRuntimeNotKit: a JDK unpacked in /opt ships what `java`
// needs — the launcher, conf, lib (modules image, libjvm, jspawnhelper),
// legal, release — and leaves the kit out, each piece listed with why;
// the policy keeps one tool deliberately, and a tool the health check
// runs is allowed.
func TestRebaseJVMRuntimeNotKit(t *testing.T) {
	interp := hostInterp(t)
	base, final := debianFinal(t)
	exe := func(payload string) []byte {
		return rootfstest.ELF(rootfstest.ELFSpec{Interp: interp, Needed: []string{"libc.so.6"}, Payload: []byte(payload)})
	}
	const h = "/opt/java/openjdk"
	for _, tool := range []string{"java", "javac", "jshell", "jdb", "jcmd", "jhsdb", "jlink", "keytool"} {
		final.File(h+"/bin/"+tool, exe(tool), 0o755)
	}
	final.File(h+"/lib/modules", []byte("jimage"), 0o644)
	final.File(h+"/lib/server/libjvm.so", rootfstest.ELF(rootfstest.ELFSpec{Needed: []string{"libc.so.6"}, Payload: []byte("jvm")}), 0o755)
	final.File(h+"/lib/jspawnhelper", exe("jspawnhelper"), 0o755)
	final.File(h+"/conf/security/java.security", []byte("x"), 0o644)
	final.File(h+"/legal/java.base/LICENSE", []byte("GPL"), 0o644)
	final.File(h+"/release", []byte("JAVA_VERSION=\"17\"\n"), 0o644)
	final.File(h+"/jmods/java.base.jmod", []byte("jmod"), 0o644)
	final.File(h+"/include/jni.h", []byte("/* jni */"), 0o644)
	final.Symlink("/usr/local/bin/jshell", h+"/bin/jshell")
	final.File("/app/app.jar", []byte("PK"), 0o644)
	ks, err := rebase(t, base, final, func(in *RebaseInput) {
		in.Entrypoint = []string{h + "/bin/java", "-jar", "/app/app.jar"}
		in.Healthcheck = []string{h + "/bin/jcmd", "1", "VM.uptime"}
		in.Keep = []string{h + "/bin/jdb"}
	})
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := final.Load()
	checkInvariants(t, ft, ks)
	for _, p := range []string{h + "/bin/java", h + "/lib/modules", h + "/lib/server/libjvm.so", h + "/lib/jspawnhelper",
		h + "/conf/security/java.security", h + "/legal/java.base/LICENSE", h + "/release", h + "/bin/jdb", h + "/bin/jcmd"} {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s not kept", p)
		}
	}
	dropped := map[string]string{}
	for _, d := range ks.NotAllowed {
		dropped[d.Path] = d.Reason
	}
	for _, p := range []string{h + "/bin/javac", h + "/bin/jshell", h + "/bin/jhsdb", h + "/bin/jlink", h + "/bin/keytool",
		h + "/jmods", h + "/include", "/usr/local/bin/jshell"} {
		if slices.Contains(ks.Paths, p) {
			t.Errorf("%s kept: %s", p, ks.Reasons[p])
		}
		if dropped[p] == "" {
			t.Errorf("%s left out without being listed", p)
		}
	}
	for _, p := range []string{h + "/jmods/java.base.jmod", h + "/include/jni.h"} {
		if slices.Contains(ks.Paths, p) {
			t.Errorf("%s kept", p)
		}
	}
	if !strings.Contains(dropped[h+"/bin/javac"], "development or diagnostic tool of the JDK") {
		t.Errorf("reason for javac = %q", dropped[h+"/bin/javac"])
	}
}
