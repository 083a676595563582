/* plughost: loads every plugin in PLUGINDIR (sorted by name) with dlopen
 * and applies each to its argument, printing the intermediate results. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_plugin(const struct dirent *d) {
    size_t n = strlen(d->d_name);
    return n > 3 && strcmp(d->d_name + n - 3, ".so") == 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s TEXT\n", argv[0]);
        return 2;
    }
    char *text = strdup(argv[1]);
    struct dirent **list;
    int n = scandir(PLUGINDIR, &list, is_plugin, by_name);
    if (n < 0) {
        perror(PLUGINDIR);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr, "no plugins in %s\n", PLUGINDIR);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", PLUGINDIR, list[i]->d_name);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "dlopen: %s\n", dlerror());
            return 1;
        }
        const char *name = dlsym(h, "plugin_name");
        transform_fn f = (transform_fn)dlsym(h, "plugin_transform");
        if (!name || !f) {
            fprintf(stderr, "%s: not a plugin\n", path);
            return 1;
        }
        f(text, strlen(text));
        printf("%s: %s\n", name, text);
    }
    printf("%d plugins ok\n", n);
    return 0;
}
