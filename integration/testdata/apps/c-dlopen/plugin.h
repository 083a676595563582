/* The plugin interface: each plugin exports plugin_name and
 * plugin_transform. */
#ifndef PLUGIN_H
#define PLUGIN_H
#include <stddef.h>

typedef void (*transform_fn)(char *s, size_t n);
#endif
