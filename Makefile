# VELOCITY-OS top-level build.
#
#   make            build everything: EFI kernel, host tools, NDA programs, disk images
#   make run        install missing Debian packages, build, boot QEMU with the shell on this
#                   terminal.  CMDS='a; b' types commands unattended; DISK=IMG attaches another
#                   NVMe image; QEMU_EXTRA='...' appends QEMU arguments.
#   make test       every test suite (host unit tests, fuzzers for a bounded time, QEMU tests)
#   make bench      benchmark tables
#   make debug      QEMU stopped with a gdb stub; prints the gdb command that loads symbols
#
# Each subsystem contributes a fragment (*/module.mk) that appends to the lists below, so a
# new subsystem never edits this file's rules.

SHELL       := /bin/bash
BUILD       := build
HOSTCC      ?= clang
HOSTCFLAGS  := -std=c17 -Wall -Wextra -Werror -O2 -g -D_DEFAULT_SOURCE -I.
FUZZCFLAGS  := -std=c17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -D_DEFAULT_SOURCE -I.

# Lists filled by the fragments.
HOST_TOOLS   :=     # host executables built by `make`
UNIT_TESTS   :=     # host test executables, each prints `ok NAME` / `not ok NAME: why`
FUZZERS      :=     # libFuzzer executables, run for FUZZ_SECONDS each in `make test`
QEMU_TESTS   :=     # python test scripts under tests/qemu
BENCHES      :=     # executables (no arguments) printing benchmark tables
KERNEL_SRCS  :=     # kernel C and assembly sources
DISK_FILES   :=     # files copied onto the default NVMe data disk

FUZZ_SECONDS ?= 20

# Host tools that fragments use in their rules (defined here because fragments are read in
# alphabetical order and rule prerequisites are expanded as they are read).
NDA_TOOL     := $(BUILD)/nda
FATIMG       := $(BUILD)/fatimg

.PHONY: all run test bench debug deps clean fuzz-long kernel images
all: kernel host-tools images

include lib/module.mk
include $(filter-out lib/module.mk,$(wildcard */module.mk */*/module.mk))
# After the fragments: rule prerequisites are expanded when read.
include mk/kernel.mk
include mk/images.mk

host-tools: $(HOST_TOOLS)

deps:
	@tools/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@python3 tools/vrun.py $(if $(CMDS),--cmds "$(CMDS)") $(if $(DISK),--disk "$(DISK)") \
	    $(if $(QEMU_EXTRA),--qemu-extra "$(QEMU_EXTRA)")

debug: deps
	@$(MAKE) --no-print-directory all
	@python3 tools/vrun.py --debug $(if $(DISK),--disk "$(DISK)") \
	    $(if $(QEMU_EXTRA),--qemu-extra "$(QEMU_EXTRA)")

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_TESTS) $(FUZZERS)
	@tools/testrun.sh --unit "$(UNIT_TESTS)" --fuzz "$(FUZZERS)" --fuzz-seconds $(FUZZ_SECONDS) \
	    --qemu "$(QEMU_TESTS)"

# Every fuzzer for FUZZ_LONG_SECONDS (default 30 minutes) instead of make test's short run.
fuzz-long: $(FUZZERS)
	@tools/testrun.sh --fuzz "$(FUZZERS)" --fuzz-seconds $${FUZZ_LONG_SECONDS:-1800}

bench: deps
	@$(MAKE) --no-print-directory all
	@fail=0; for b in $(BENCHES); do $$b || { echo "bench: $$b failed" >&2; fail=1; }; echo; done; exit $$fail

clean:
	rm -rf $(BUILD)

# Generic host rules: every portable object is built once per flavour into build/host/.
$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(FUZZCFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
