# Kernel build: freestanding C17 objects linked as an ELF shared object with gnu-efi's
# start-up code (it self-relocates, then calls efi_main), then converted to a PE32+ EFI
# application by objcopy.  build/kernel.elf keeps the DWARF symbols for gdb; the EFI file
# carries no COFF symbol table (--strip-all: nothing reads it, and it was ~24 KB): the
# kernel's own backtraces use the ksyms table linked into it.

KCC      := gcc
KLD      := ld
EFIINC   := /usr/include/efi
KCFLAGS  := -std=c17 -Wall -Wextra -Werror -Os -g -ffreestanding -fno-stack-protector \
            -fpic -fvisibility=hidden -fshort-wchar -mno-red-zone -mgeneral-regs-only \
            -fno-omit-frame-pointer -fno-strict-aliasing -fno-builtin-printf \
            -ffunction-sections -fdata-sections \
            -nostdinc -isystem $(shell $(KCC) -print-file-name=include) \
            -Ilib/libc/include -I. -I$(EFIINC) -I$(EFIINC)/x86_64 \
            -DGNU_EFI_USE_MS_ABI -DVELOCITY_KERNEL
KLDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic -T mk/kernel.lds --no-undefined --gc-sections
KOBJDIR  := $(BUILD)/kernel
EFI_APP  := $(BUILD)/BOOTX64.EFI
KERNEL_ELF := $(BUILD)/kernel.elf
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

kernel: $(EFI_APP)

# The kernel is built for size (-Os: it should fit in a CPU's L3 cache, and the EFI image in
# 256 KiB); the few files on hot paths listed in KERNEL_FAST_SRCS get -O2.
KERNEL_FAST_SRCS += vm/interp.c lib/sha256.c drivers/nvme/nvme_io.c fs/fat_file.c fs/bcache.c
$(patsubst %.c,$(KOBJDIR)/%.o,$(KERNEL_FAST_SRCS)): KCFLAGS += -O2

# Objects depend on this file too, so a change of flags rebuilds them.
$(KOBJDIR)/%.o: %.c mk/kernel.mk
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(KOBJDIR)/%.o: %.S mk/kernel.mk
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -MMD -MP -c $< -o $@

# The version string changes with every commit: it is kept in a file rewritten only when it
# changes, so an unchanged tree does not relink the kernel (or remake the ESP) on every make.
$(BUILD)/version.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(KOBJDIR)/kernel/version.o: kernel/version.c $(BUILD)/version.txt
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -DVELOCITY_VERSION='"$(VERSION)"' -c kernel/version.c -o $@

KERNEL_OBJS = $(patsubst %,$(KOBJDIR)/%.o,$(basename $(KERNEL_SRCS))) $(KOBJDIR)/kernel/version.o
KLINK = $(KLD) $(KLDFLAGS) /usr/lib/crt0-efi-x86_64.o $(KERNEL_OBJS) $(1) -L/usr/lib -lgnuefi -o $(2)

# Two links: the first, with an empty symbol table, gives the addresses; the second adds
# the table (read-only data after all text, so no function moves; checked below).
$(KOBJDIR)/ksyms_empty.c: $(BUILD)/mksyms
	@mkdir -p $(dir $@)
	$(BUILD)/mksyms </dev/null >$@
$(KOBJDIR)/kernel.pass1.elf: $(KERNEL_OBJS) $(KOBJDIR)/ksyms_empty.o mk/kernel.lds
	$(call KLINK,$(KOBJDIR)/ksyms_empty.o,$@)
$(KOBJDIR)/ksyms_data.c: $(KOBJDIR)/kernel.pass1.elf $(BUILD)/mksyms
	nm -n $< | $(BUILD)/mksyms >$@
$(KOBJDIR)/%.o: $(KOBJDIR)/%.c
	$(KCC) $(KCFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) $(KOBJDIR)/ksyms_data.o $(KOBJDIR)/kernel.pass1.elf
	$(call KLINK,$(KOBJDIR)/ksyms_data.o,$@)
	@nm -n $(KOBJDIR)/kernel.pass1.elf | grep -i ' t ' >$(KOBJDIR)/syms1.txt
	@nm -n $@ | grep -i ' t ' >$(KOBJDIR)/syms2.txt
	@cmp -s $(KOBJDIR)/syms1.txt $(KOBJDIR)/syms2.txt || \
	    { echo "kernel: functions moved between the two links; symbols would be wrong" >&2; exit 1; }

$(EFI_APP): $(KERNEL_ELF)
	objcopy -j .text -j .rodata -j .data -j .bss -j .dynamic -j .dynsym -j .rel -j .rela \
	    -j .reloc --strip-all --target efi-app-x86_64 --subsystem=10 $< $@
	@size=$$(stat -c %s $@); echo "BOOTX64.EFI: $$size bytes"

.PHONY: FORCE
FORCE:
