# drivers/nvme/: the NVMe driver.  The PRP builder and the status decoder are portable and
# unit-tested on the host; the rest is kernel-only.
NVME_PORTABLE := drivers/nvme/nvme_prp.c drivers/nvme/nvme_status.c

$(BUILD)/tests/test_nvme_prp: $(BUILD)/host/tests/nvme/test_nvme_prp.o $(BUILD)/host/drivers/nvme/nvme_prp.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
$(BUILD)/tests/test_nvme_status: $(BUILD)/host/tests/nvme/test_nvme_status.o \
    $(BUILD)/host/drivers/nvme/nvme_status.o $(BUILD)/host/lib/blkdev.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
UNIT_TESTS += $(BUILD)/tests/test_nvme_prp $(BUILD)/tests/test_nvme_status

KERNEL_SRCS += $(NVME_PORTABLE) drivers/nvme/nvme.c drivers/nvme/nvme_io.c \
    drivers/nvme/nvme_shell.c drivers/nvme/disk_test.c kernel/efi_bench.c

QEMU_TESTS += tests/qemu/test_nvme.py tests/qemu/test_nvme_errors.py
BENCHES += tests/bench/nvme_bench.py
