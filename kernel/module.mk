# The kernel proper: architecture code, drivers, kernel core and shell (kernel-only).
KERNEL_SRCS += arch/x86_64/entry.S arch/x86_64/gdt.c arch/x86_64/idt.c arch/x86_64/paging.c \
    arch/x86_64/apic.c \
    drivers/uart/uart16550.c drivers/acpi/acpi.c drivers/timer/hpet.c \
    kernel/efi_boot.c kernel/main.c kernel/pmm.c kernel/console.c kernel/trap.c kernel/clock.c \
    kernel/power.c kernel/ksyms.c \
    shell/shell.c shell/lineedit.c shell/cmds_sys.c shell/cmds_debug.c
KERNEL_SRCS += shell/cmds_sitemap.c   # sitemap / verify commands, run's content check

$(BUILD)/mksyms: tools/mksyms.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $< -o $@

# Unit test of the line editor on the host.
$(BUILD)/tests/test_lineedit: $(BUILD)/host/tests/shell/test_lineedit.o $(BUILD)/host/shell/lineedit.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
UNIT_TESTS += $(BUILD)/tests/test_lineedit
QEMU_TESTS += tests/qemu/test_shell.py
BENCHES += tests/bench/boot_bench.py
QEMU_TESTS += tests/qemu/test_debug.py
QEMU_TESTS += tests/qemu/test_make_run.py
