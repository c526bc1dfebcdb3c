# shell/module.mk: `run` (NDA programs from the data volume), the kernel's vm_env, and the
# content-addressed cache (lib/cas) with its `cache` command.
KERNEL_SRCS += lib/cas.c kernel/kcache.c kernel/vm_env_kernel.c shell/cmds_run.c
# The block cache over the live sitemap (fs/hotfile, kernel/hotfile; docs/SITEMAP.md).
KERNEL_SRCS += fs/hotfile.c kernel/hotfile.c

$(BUILD)/tests/test_cas: $(BUILD)/host/tests/lib/test_cas.o $(BUILD)/host/lib/cas.o \
                         $(BUILD)/host/lib/sha256.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
UNIT_TESTS += $(BUILD)/tests/test_cas

QEMU_TESTS += tests/qemu/test_run.py
BENCHES += tests/bench/vm_os_bench.py
