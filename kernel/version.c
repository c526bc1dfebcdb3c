/* The version string, compiled fresh on every build from `git describe` (mk/kernel.mk). */
#ifndef VELOCITY_VERSION
#define VELOCITY_VERSION "unknown"
#endif
const char velocity_version[] = VELOCITY_VERSION;
