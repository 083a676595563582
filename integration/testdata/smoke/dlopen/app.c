/* A server that loads its compression plugin by name at start, as plugin
 * hosts do: nothing in its ELF headers says it needs libz.so.1, so the
 * runtime closure of its dynamic section misses the library. It listens
 * on 127.0.0.1:27130 and answers every connection with the version. */
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
	void *h = dlopen("libz.so.1", RTLD_NOW);
	if (!h) {
		fprintf(stderr, "cannot load the compression plugin: %s\n", dlerror());
		return 1;
	}
	const char *(*version)(void) = (const char *(*)(void))dlsym(h, "zlibVersion");
	char line[64];
	snprintf(line, sizeof line, "zlib %s\n", version ? version() : "?");
	fputs(line, stdout);
	fflush(stdout);

	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(27130), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 16) != 0) {
		perror("listen");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		write(c, line, strlen(line));
		close(c);
	}
}
