# lib/: portable helpers shared by every layer, plus the kernel's freestanding libc subset.
LIB_SRCS       := lib/fmt.c lib/blkdev.c
LIB_HOST_SRCS  := $(LIB_SRCS) lib/host/clock_host.c lib/host/blk_file.c
LIB_HOST_OBJS  := $(patsubst %.c,$(BUILD)/host/%.o,$(LIB_HOST_SRCS))
KERNEL_SRCS    += $(LIB_SRCS) lib/libc/string.c lib/libc/stdio.c

$(BUILD)/tests/test_fmt: $(BUILD)/host/tests/lib/test_fmt.o $(BUILD)/host/lib/fmt.o
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
UNIT_TESTS += $(BUILD)/tests/test_fmt
