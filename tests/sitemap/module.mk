# tests/sitemap: the sitemap (fs/sitemap.[ch], docs/SITEMAP.md) — host unit test, the
# host-tool/mtools/sha256sum cross-check with an independent Python recomputation, the
# QEMU test, and the benchmark.
$(BUILD)/tests/test_sitemap: $(BUILD)/host/tests/sitemap/test_sitemap.o $(FS_HOST_OBJS) \
                             $(SITEMAP_HOST_OBJS) | $(BUILD)/fatimg
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $(filter %.o,$^) -o $@
UNIT_TESTS += $(BUILD)/tests/test_sitemap tests/sitemap/sitemap_host.sh
tests/sitemap/sitemap_host.sh: $(BUILD)/fatimg

# The block cache over the live sitemap (fs/hotfile.[ch]) and its QEMU test.
$(BUILD)/tests/test_hotfile: $(BUILD)/host/tests/sitemap/test_hotfile.o $(BUILD)/host/fs/hotfile.o \
                             $(BUILD)/host/lib/cas.o $(FS_HOST_OBJS) $(SITEMAP_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
UNIT_TESTS += $(BUILD)/tests/test_hotfile
QEMU_TESTS += tests/qemu/test_hotcache.py

$(BUILD)/bench_sitemap: $(BUILD)/host/tests/sitemap/bench_sitemap.o $(FS_HOST_OBJS) \
                        $(SITEMAP_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) $^ -o $@
HOST_TOOLS += $(BUILD)/bench_sitemap
BENCHES += $(BUILD)/bench_sitemap

QEMU_TESTS += tests/qemu/test_sitemap.py
