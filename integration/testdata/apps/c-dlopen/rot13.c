#include "plugin.h"

const char plugin_name[] = "rot13";

void plugin_transform(char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z') s[i] = (char)('a' + (c - 'a' + 13) % 26);
        else if (c >= 'A' && c <= 'Z') s[i] = (char)('A' + (c - 'A' + 13) % 26);
    }
}
