/* kernel/vm_env_kernel.h: the services NDA programs' helpers get in the kernel (vm_env of
 * vm/vm.h): printing to the console, files and directories on the mounted data volume
 * (kernel/vfs.h + fs/fat.h; paths relative to the shell's current directory), the
 * monotonic clock, and the program's arguments. */
#ifndef KERNEL_VM_ENV_KERNEL_H
#define KERNEL_VM_ENV_KERNEL_H
#include "vm/vm.h"

/* Fill ENV for a program with ARGC/ARGV (argv[0] = the program's name). */
void kvm_env_init(vm_env *env, int argc, const char *const *argv);

/* Read up to CAP bytes at offset OFF of the file at the absolute path ABS into BUF, through
 * the block cache (kernel/hotfile.h); returns the bytes read or a negative hot_err
 * (hot_strerror).  `run` loads programs through it too. */
int64_t kvm_read_path(const char *abs, uint64_t off, void *buf, uint64_t cap);

#endif
