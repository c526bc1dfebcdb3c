/* kernel/hotfile.c: see hotfile.h.  One struct hotfile (its scratch block and counters)
 * serves every caller: the shell runs one command at a time. */
#include "kernel/console.h"
#include "kernel/hotfile.h"
#include "kernel/kcache.h"
#include "kernel/vfs.h"
#include "shell/cmds_sitemap.h"

static struct hotfile hf;

int hot_read(const char *abs_path, uint64_t off, void *buf, size_t len, size_t *got)
{
    *got = 0;
    hf.vol = vfs_root();
    if (!hf.vol) {
        hf.fat_err = FAT_ENOENT;
        return HOT_EFAT;
    }
    hf.sm = sitemap_live();
    hf.cache = kcache();
    int err = hotfile_read(&hf, abs_path, off, buf, len, got);
    if (err == HOT_ECORRUPT)
        klog("hotfile: %s: block %u differs from the sitemap (the disk changed behind the "
             "filesystem); not served. 'sitemap -f' accepts the disk's content\n",
             abs_path, hf.bad_block);
    return err;
}

const char *hot_strerror(int err)
{
    return err == HOT_ECORRUPT ? "content does not match the sitemap"
                               : fat_strerror(err == HOT_EFAT ? hf.fat_err : err);
}

const struct hotfile *hot_state(void) { return &hf; }
