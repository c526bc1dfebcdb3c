# Disk images: the ESP that holds BOOTX64.EFI, and the default 64 MiB NVMe data disk.
# Both are made by the real tools (mkfs.fat, mtools), never by hand.
ESP_IMG   := $(BUILD)/esp.img
DATA_IMG  := $(BUILD)/disk.img

images: $(ESP_IMG) $(DATA_IMG)

$(ESP_IMG): $(EFI_APP)
	@rm -f $@.tmp
	truncate -s 4M $@.tmp
	mkfs.fat -F 12 -n VELOCITYESP $@.tmp >/dev/null
	mmd -i $@.tmp ::/EFI ::/EFI/BOOT
	mcopy -i $@.tmp $(EFI_APP) ::/EFI/BOOT/BOOTX64.EFI
	mv $@.tmp $@

# The data disk is made once; after that, rebuilt programs are copied over their old
# versions and nothing else is touched, so the files you made in the OS survive every make.
# (`make clean` or deleting build/disk.img starts a fresh one.)
$(DATA_IMG): $(DISK_FILES)
	@if [ ! -f $@ ]; then \
	    rm -f $@.tmp && truncate -s 64M $@.tmp && \
	    mkfs.fat -F 32 -s 1 -n VELOCITY $@.tmp >/dev/null && mv $@.tmp $@; \
	fi
	$(if $(DISK_FILES),mcopy -o -i $@ $(DISK_FILES) ::/)
	@touch $@
