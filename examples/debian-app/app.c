/* The debian-app example: a dynamically linked C program that needs the
 * C library and the CA bundle at run time, and nothing else. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "--selftest") == 0) {
		if (access(ca_bundle, R_OK) != 0) {
			fprintf(stderr, "selftest: %s is not readable\n", ca_bundle);
			return 1;
		}
		if (getuid() == 0 || getgid() == 0) {
			fprintf(stderr, "selftest: running as root\n");
			return 1;
		}
		printf("selftest ok: uid %d gid %d, CA bundle present\n", (int)getuid(), (int)getgid());
		return 0;
	}
	printf("hello from a hardened Debian image\n");
	return 0;
}
