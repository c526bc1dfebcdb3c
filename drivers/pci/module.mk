# drivers/pci/: PCI enumeration, the device table, lspci, and the pci.ids name table.
#
# The name table is generated at build time from Debian's pci.ids by tools/pciids (a host
# tool) into $(BUILD)/gen/pci_ids.c; it is never committed.
PCI_IDS          ?= /usr/share/misc/pci.ids
PCIIDS_TOOL      := $(BUILD)/pciids
PCI_IDS_C        := $(BUILD)/gen/pci_ids.c
PCI_PORTABLE_SRCS := drivers/pci/pci_decode.c drivers/pci/pci_names.c

KERNEL_SRCS += drivers/pci/pci.c drivers/pci/pci_cmds.c $(PCI_PORTABLE_SRCS) $(PCI_IDS_C)
HOST_TOOLS  += $(PCIIDS_TOOL)

$(PCIIDS_TOOL): tools/pciids/pciids.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $< -o $@

$(PCI_IDS_C): $(PCIIDS_TOOL) $(PCI_IDS) tools/pciids/select.txt
	@mkdir -p $(dir $@)
	$(PCIIDS_TOOL) $(PCI_IDS) tools/pciids/select.txt $@

# The generated table compiled for the host tests.
$(BUILD)/host/gen/pci_ids.o: $(PCI_IDS_C)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -c $< -o $@
QEMU_TESTS += tests/qemu/test_pci.py

# Host unit tests: the decoder over recorded dumps, and the name table against pci.ids.
$(BUILD)/tests/test_pci_decode: $(BUILD)/host/tests/pci/test_pci_decode.o $(BUILD)/host/drivers/pci/pci_decode.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
UNIT_TESTS += $(BUILD)/tests/test_pci_decode

$(BUILD)/tests/test_pci_names: $(BUILD)/host/tests/pci/test_pci_names.o $(BUILD)/host/drivers/pci/pci_names.o \
    $(BUILD)/host/gen/pci_ids.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
UNIT_TESTS += $(BUILD)/tests/test_pci_names
