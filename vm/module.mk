# vm/: the NDA virtual machine (portable core), its host glue, the `nda` tool and tests.
SHARED ?= $(firstword $(wildcard ../shared /work/shared))

VM_SRCS       := vm/vm.c vm/loader.c vm/interp.c vm/helpers.c vm/disasm.c lib/sha256.c
# The JIT joins automatically once vm/jit_x86_64.c exists: the translator and its driver,
# vm/jit_compile.c, whose strong vm_jit_* symbols replace the weak stubs in vm/vm.c.
VM_JIT_SRCS   := $(if $(wildcard vm/jit_x86_64.c),vm/jit_x86_64.c vm/jit_compile.c)
VM_HOST_SRCS  := $(VM_SRCS) $(VM_JIT_SRCS) vm/asm.c vm/host/vm_exec_host.c vm/host/preempt_host.c \
                 lib/host/clock_host.c
VM_HOST_OBJS  := $(patsubst %.c,$(BUILD)/host/%.o,$(VM_HOST_SRCS))
KERNEL_SRCS   += vm/vm.c vm/loader.c vm/interp.c vm/helpers.c vm/disasm.c lib/sha256.c $(VM_JIT_SRCS)

VM_TEST_LINK = $(HOSTCC) $(HOSTCFLAGS) $^ -o $@

$(BUILD)/tests/vm_conformance_bin: $(BUILD)/host/tests/vm/test_conformance.o $(VM_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(VM_TEST_LINK)

# The suite lives outside the repo; the wrapper passes its path and fails if it is missing.
$(BUILD)/tests/vm_conformance: $(BUILD)/tests/vm_conformance_bin vm/module.mk
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec %s "%s"\n' "$(abspath $<)" "$(abspath $(SHARED))/conformance/bpf_conformance/tests" > $@
	chmod +x $@
UNIT_TESTS += $(BUILD)/tests/vm_conformance

# The host tool.
NDA_TOOL_SRCS := vm/host/nda_main.c vm/host/nda_build.c vm/host/host_env.c
$(NDA_TOOL): $(patsubst %.c,$(BUILD)/host/%.o,$(NDA_TOOL_SRCS)) $(VM_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
HOST_TOOLS += $(NDA_TOOL)

$(BUILD)/tests/vm_unit: $(BUILD)/host/tests/vm/test_vm.o $(BUILD)/host/vm/host/nda_build.o $(VM_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(VM_TEST_LINK)
UNIT_TESTS += $(BUILD)/tests/vm_unit

# Differential test of programs/ (native vs .nda); the script itself is the test executable.
$(BUILD)/tests/vm_programs: tests/vm/test_programs.sh $(NDA_TOOL) $(PROGRAM_NDAS) $(PROGRAM_NATIVE) \
                          $(BENCH_NDAS) $(BENCH_NATIVE)
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\nexec %s %s\n' "$(abspath $<)" "$(abspath $(BUILD))" > $@
	chmod +x $@
UNIT_TESTS += $(BUILD)/tests/vm_programs

# SHA-256 known vectors and agreement with the host's sha256sum.
$(BUILD)/tests/sha256: $(BUILD)/host/tests/vm/test_sha256.o $(BUILD)/host/lib/sha256.o
	@mkdir -p $(dir $@)
	$(VM_TEST_LINK)
UNIT_TESTS += $(BUILD)/tests/sha256

# libFuzzer on the .nda loader + verifier, seeded with the built programs.
VM_FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzzobj/%.o,vm/vm.c vm/loader.c vm/interp.c vm/helpers.c vm/disasm.c lib/sha256.c lib/host/clock_host.c)
# Seeds: the programs `make` builds, copied into the corpus directory tools/testrun.sh uses
# (generated, never committed).
$(BUILD)/fuzz-corpus/nda_load_fuzz/.seeded: $(PROGRAM_NDAS)
	@mkdir -p $(dir $@)
	cp $(PROGRAM_NDAS) $(dir $@) && touch $@
$(BUILD)/fuzz/nda_load_fuzz: $(BUILD)/fuzzobj/tests/fuzz/nda_load_fuzz.o $(VM_FUZZ_OBJS) \
                             $(BUILD)/fuzz-corpus/nda_load_fuzz/.seeded
	@mkdir -p $(dir $@)
	$(HOSTCC) -fsanitize=fuzzer,address,undefined $(filter %.o,$^) -o $@
FUZZERS += $(BUILD)/fuzz/nda_load_fuzz

$(BUILD)/tests/vm_random: $(BUILD)/host/tests/vm/test_random.o $(VM_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(VM_TEST_LINK)
UNIT_TESTS += $(BUILD)/tests/vm_random

# Interpreter vs JIT at the edges of program memory, where versioned regions' cover checks
# decide; it counts the regions with the JIT's own sizing pass, so it needs the JIT.
ifneq ($(VM_JIT_SRCS),)
$(BUILD)/tests/vm_region_diff: $(BUILD)/host/tests/vm/test_region_diff.o $(VM_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(VM_TEST_LINK)
UNIT_TESTS += $(BUILD)/tests/vm_region_diff
endif

# Asynchronous stops on the host: time limit and SIGINT against every kind of runaway.
$(BUILD)/tests/vm_preempt: $(BUILD)/host/tests/vm/test_preempt.o $(VM_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(VM_TEST_LINK)
UNIT_TESTS += $(BUILD)/tests/vm_preempt
