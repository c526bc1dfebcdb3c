/* kernel/power.h: ACPI soft-off (S5) and machine reset. */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H
/* Both return only on failure, with a message printed. */
void power_off(void);
void power_reboot(void);
/* Functions run before power-off or reboot (unmount filesystems, flush disks). */
void power_add_shutdown_hook(void (*fn)(void));
#endif
