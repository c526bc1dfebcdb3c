/* Freestanding <strings.h>: the case-insensitive compares live in our <string.h>. */
#include <string.h>
