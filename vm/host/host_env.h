/* vm/host/host_env.h: the vm_env services on Linux (stdio/POSIX), for the nda tool and the
 * tests.  Paths are used as given (relative to the current directory). */
#ifndef VM_HOST_HOST_ENV_H
#define VM_HOST_HOST_ENV_H
#include "vm/vm.h"

/* Fills env with the host callbacks; print goes to stdout. */
void host_env_init(vm_env *env, int argc, const char *const *argv);

#endif
