/* fs/sitemap: a SHA-256 Merkle tree ("sitemap") of a mounted FAT volume, in caller memory.
 *
 * Interface (every call returns enum sm_err; SM_OK = 0):
 *   sitemap_init(sm, vol, mem, size)   bind to a mounted volume; MEM/SIZE holds the tree
 *                                      (nodes from the bottom, names and block hashes from
 *                                      the top).  Installs the volume's change callback, so
 *                                      later writes through the FAT core mark nodes dirty.
 *   sitemap_build(sm)                  hash the whole volume from scratch
 *   sitemap_refresh(sm)                rehash only what the change callback reported (a
 *                                      full build if nothing was built yet, if the tree
 *                                      memory ran out, or after sitemap_invalidate)
 *   sitemap_save(sm)                   write the tree to /SITEMAP.BIN (via SITEMAP.TMP)
 *   sitemap_load(saved, vol, mem, size)  read /SITEMAP.BIN into a second, detached tree
 *   sitemap_diff(cur, saved, report, ctx, &counts)   added / removed / changed files, and
 *                                      which blocks of each changed file differ
 *   sitemap_file_hash(vol, path, buf, leaf, content)  hash one file fresh (no tree)
 *   sitemap_mem_hash(data, len, blocks, leaf)   the same for a file already in memory
 *   sitemap_find(sm, path)             node of PATH (ASCII case-insensitive), or SM_NONE
 *   sitemap_detach(sm)                 remove the change callback
 * The construction (what each hash covers) is in docs/SITEMAP.md; host and kernel run this
 * same code, so they print the same root for the same volume.
 * Invariants: no allocation and no global state; every size is bounded (tree memory,
 * SM_DEPTH_MAX, SM_PATH_MAX); a node's hash is current unless it or a descendant carries a
 * dirty flag; the saved file and its temporary are never part of the tree. */
#ifndef FS_SITEMAP_H
#define FS_SITEMAP_H
#include "fs/fat.h"
#include "lib/sha256.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sm_err {
    SM_OK = 0,
    SM_EFAT,        /* the filesystem failed; sm->fat_err says how, sm->path where */
    SM_ENOMEM,      /* the tree does not fit the memory given to sitemap_init/load */
    SM_EDEPTH,      /* directories nested deeper than SM_DEPTH_MAX */
    SM_EPATH,       /* a path longer than SM_PATH_MAX */
    SM_ENOSAVED,    /* no saved sitemap on the volume */
    SM_EFORMAT,     /* the saved sitemap is malformed or its checksum does not match */
    SM_ENOTBUILT,   /* the tree has not been built */
};

const char *sm_strerror(int err);

enum {
    SM_BLOCK = 4096,        /* bytes per content block (docs/SITEMAP.md) */
    SM_DEPTH_MAX = 32,      /* directory nesting the walk accepts */
    SM_PATH_MAX = 1024,     /* bytes of a path, with its NUL */
    SM_HASH = SHA256_DIGEST_SIZE,
};
#define SM_NONE 0xFFFFFFFFu
#define SM_SAVE_NAME "SITEMAP.BIN"   /* in the root directory, excluded from the tree */
#define SM_TEMP_NAME "SITEMAP.TMP"   /* written first, renamed over SM_SAVE_NAME */

enum sm_kind { SM_FILE = 'F', SM_DIR = 'D' };

/* Node flags. */
enum {
    SM_F_RELIST = 1,    /* directory entries changed: list again */
    SM_F_DATA = 2,      /* file blocks [dlo, dhi) changed */
    SM_F_NEW = 4,       /* not hashed yet (whole file / whole subtree) */
    SM_F_BELOW = 8,     /* some descendant carries a dirty flag */
    SM_F_CONTENT = 16,  /* content[] is current */
    SM_F_SEEN = 32,     /* scratch mark while relisting */
};

struct sm_node {
    uint32_t parent, child, next;   /* tree links (node indices, SM_NONE for none) */
    uint32_t name;                  /* byte offset of the name in the tree memory */
    uint16_t name_len;
    uint8_t kind;                   /* enum sm_kind; 0 on the free list */
    uint8_t flags;
    uint32_t size;                  /* file bytes */
    uint32_t first;                 /* first cluster: a directory's identity for events */
    uint32_t dir, idx;              /* where the file's entry is (parent's first, index) */
    uint32_t blocks, cap;           /* block hashes in use / room at blk */
    uint32_t blk;                   /* byte offset of the block hashes in the tree memory */
    uint32_t dlo, dhi;              /* dirty block range when SM_F_DATA */
    uint8_t hash[SM_HASH];          /* file leaf hash or directory hash */
    uint8_t content[SM_HASH];       /* files: SHA-256 of the whole file (= sha256sum) */
};

/* Work counters of the last build or refresh. */
struct sm_stats {
    uint64_t blocks_hashed;         /* content blocks read and hashed */
    uint64_t bytes_hashed;          /* their bytes */
    uint64_t content_bytes;         /* bytes hashed for whole-file content hashes only */
    uint32_t files_hashed;          /* files whose leaf was recomputed */
    uint32_t dirs_listed;           /* directories read from the volume */
    uint32_t dirs_hashed;           /* directory hashes recomputed */
    bool full;                      /* it was a full build */
};

struct sitemap {
    struct fat_volume *vol;         /* NULL for a loaded (detached) tree */
    uint8_t *mem;
    size_t size;
    struct sm_node *nodes;          /* nodes[0 .. nnodes) at the bottom of mem */
    uint32_t nnodes, free_list;
    size_t top;                     /* names and block hashes occupy mem[top .. size) */
    uint32_t root;
    uint32_t files, dirs;           /* live nodes of each kind */
    uint64_t total_blocks;          /* block hashes of live files */
    bool built;
    bool overflow;                  /* an event could not be recorded: rebuild */
    bool muted;                     /* ignore change events (while saving) */
    uint32_t last_hit;              /* node the last event matched (a one-entry cache) */
    struct sm_stats stats;
    int fat_err;                    /* with SM_EFAT */
    char path[SM_PATH_MAX];         /* scratch; after an error, where it happened */
    uint8_t buf[SM_BLOCK];          /* read / write buffer */
};

int sitemap_init(struct sitemap *sm, struct fat_volume *vol, void *mem, size_t size);
void sitemap_detach(struct sitemap *sm);
int sitemap_build(struct sitemap *sm);
int sitemap_refresh(struct sitemap *sm);
/* Forget the change record: the next refresh is a full build (e.g. after fsck --repair). */
void sitemap_invalidate(struct sitemap *sm);
/* Make every file's content hash current (hashes whole files whose content changed). */
int sitemap_content_all(struct sitemap *sm);
int sitemap_save(struct sitemap *sm);
int sitemap_load(struct sitemap *saved, struct fat_volume *vol, void *mem, size_t size);

static inline const uint8_t *sitemap_root(const struct sitemap *sm)
{
    return sm->nodes[sm->root].hash;
}
static inline const char *sitemap_name(const struct sitemap *sm, const struct sm_node *n)
{
    return (const char *)sm->mem + n->name;
}
static inline const uint8_t *sitemap_blocks(const struct sitemap *sm, const struct sm_node *n)
{
    return sm->mem + n->blk;
}

uint32_t sitemap_find(const struct sitemap *sm, const char *path);
/* Writes the absolute path of node N ("/" for the root) into OUT. */
int sitemap_path(const struct sitemap *sm, uint32_t n, char *out, size_t outsz);

/* Hash the file at PATH from the volume: its leaf hash and (CONTENT may be NULL) its
 * content hash.  BUF is SM_BLOCK bytes of scratch. */
int sitemap_file_hash(struct fat_volume *vol, const char *path, uint8_t *buf,
                      uint8_t leaf[SM_HASH], uint8_t content[SM_HASH]);

/* The same for LEN bytes in memory; BLOCKS (may be NULL) receives the ceil(LEN / SM_BLOCK)
 * block hashes. */
void sitemap_mem_hash(const void *data, uint32_t len, uint8_t *blocks, uint8_t leaf[SM_HASH]);

/* Walk the tree in canonical order: FN gets each node and its path (depth-first). */
typedef void (*sm_walk_fn)(void *ctx, const struct sitemap *sm, uint32_t node, const char *path);
void sitemap_walk(const struct sitemap *sm, sm_walk_fn fn, void *ctx);
/* The listing line of one node, as `sitemap -l` prints it (host tool and OS alike):
 * "F <leaf hash> <content hash> <size> <path>" or "D <hash> - - <path>/". */
#define SM_LINE_MAX (2 * 65 + 16 + 1024 + 8)
void sitemap_node_line(const struct sitemap *sm, uint32_t node, const char *path,
                       char line[SM_LINE_MAX]);

struct sm_diff {
    uint32_t added, removed, changed;   /* files (a directory counts its files) */
};
/* REPORT gets one line per difference, e.g. "changed /a/b.txt: blocks 0, 3-4 of 5". */
typedef void (*sm_report_fn)(void *ctx, const char *line);
int sitemap_diff(const struct sitemap *cur, const struct sitemap *saved, sm_report_fn report,
                 void *ctx, struct sm_diff *counts);

#endif
