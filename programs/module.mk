# programs/: NDA programs in C, built to .nda for the disk image and natively for the
# differential tests and benchmarks.
BPFCC        ?= clang-19
PROGRAMS     := hello fibonacci neural_n sieve mandel sha256sum cat
PROGRAM_NDAS := $(patsubst %,$(BUILD)/programs/%.nda,$(PROGRAMS))
PROGRAM_NATIVE := $(patsubst %,$(BUILD)/programs/native/%,$(PROGRAMS))

$(BUILD)/programs/%.nda: programs/%.c programs/nda.h $(NDA_TOOL)
	@mkdir -p $(dir $@)
	NDA_CLANG=$(BPFCC) $(NDA_TOOL) build $< -o $@

$(BUILD)/programs/neural_n.nda $(BUILD)/programs/native/neural_n: programs/neural_data.h

$(BUILD)/programs/native/%: programs/%.c programs/nda.h programs/native/nda_native.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=c17 -O2 -D_DEFAULT_SOURCE -Iprograms $< programs/native/nda_native.c -o $@

HOST_TOOLS += $(PROGRAM_NDAS) $(PROGRAM_NATIVE)
DISK_FILES += $(PROGRAM_NDAS)

# Benchmark-only programs (not on the disk).
BENCH_PROGRAMS := matmul crc32 collatz
BENCH_NDAS     := $(patsubst %,$(BUILD)/programs/%.nda,$(BENCH_PROGRAMS))
BENCH_NATIVE   := $(patsubst %,$(BUILD)/programs/native/%,$(BENCH_PROGRAMS))
$(BUILD)/programs/%.nda: programs/bench/%.c programs/nda.h $(NDA_TOOL)
	@mkdir -p $(dir $@)
	NDA_CLANG=$(BPFCC) $(NDA_TOOL) build $< -o $@
$(BUILD)/programs/native/%: programs/bench/%.c programs/nda.h programs/native/nda_native.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=c17 -O2 -D_DEFAULT_SOURCE -Iprograms $< programs/native/nda_native.c -o $@
HOST_TOOLS += $(BENCH_NDAS) $(BENCH_NATIVE)
BENCHES += tests/vm/bench.sh
