#include <ctype.h>

#include "plugin.h"

const char plugin_name[] = "upper";

void plugin_transform(char *s, size_t n) {
    for (size_t i = 0; i < n; i++) s[i] = (char)toupper((unsigned char)s[i]);
}
