/* shell/cmds_sitemap.h: the boot-time half of the sitemap's self-healing rule
 * (shell/cmds_sitemap.c, docs/SITEMAP.md).
 *
 * sitemap_boot() runs once after the data volume is mounted: when /SITEMAP.BIN exists it
 * is loaded and checked, and every program (*.nda) it lists is hashed again; the kernel
 * log names each one whose content changed.  From then on `run` refuses such a program
 * (run_check_program, shell/run.h) until `sitemap save` accepts the new content. */
#ifndef SHELL_CMDS_SITEMAP_H
#define SHELL_CMDS_SITEMAP_H

void sitemap_boot(void);

struct sitemap;
/* The live tree of the mounted volume if it is built and still its change listener (the
 * block cache, kernel/hotfile.h, serves files from its block hashes), else NULL. */
struct sitemap *sitemap_live(void);
/* The volume changed in ways its change callback does not report (fsck --repair): the
 * live tree is not used until it is built again. */
void sitemap_forget(void);

#endif
