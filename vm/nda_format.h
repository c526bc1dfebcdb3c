/* vm/nda_format.h: the on-disk layout of an .nda program file, defined once and shared by
 * the loader (vm/loader.c) and the host tool that writes files (vm/host/nda_tool.c).
 * docs/NDA.md describes it for people.  All integers are little-endian and read by named
 * offsets with byte loaders, never by casting a struct over the file.
 *
 *   header (NDA_HDR_SIZE bytes)
 *   code      code_count * 8       instruction words
 *   rodata    rodata_size
 *   data      data_size
 *   relocs    reloc_count * NDA_RELOC_SIZE
 *   imports   import_count * NDA_IMPORT_SIZE
 * The sections follow one another without gaps, and the file ends right after the imports.
 * sha256 = SHA-256 of the whole file with the 32 hash bytes set to zero.
 */
#ifndef VM_NDA_FORMAT_H
#define VM_NDA_FORMAT_H
#include <stdint.h>

#define NDA_MAGIC "\x7fNDA"   /* 4 bytes at offset 0 */
#define NDA_VERSION 1

/* Header field offsets. */
enum {
    NDA_OFF_MAGIC = 0,         /* 4 bytes */
    NDA_OFF_VERSION = 4,       /* u16 */
    NDA_OFF_FLAGS = 6,         /* u16, NDA_FLAG_* */
    NDA_OFF_HDR_SIZE = 8,      /* u32, = NDA_HDR_SIZE */
    NDA_OFF_FILE_SIZE = 12,    /* u32, whole file */
    NDA_OFF_ENTRY = 16,        /* u32, instruction index of the entry point */
    NDA_OFF_CODE_COUNT = 20,   /* u32, instruction slots */
    NDA_OFF_RODATA_SIZE = 24,  /* u32 */
    NDA_OFF_DATA_SIZE = 28,    /* u32 */
    NDA_OFF_BSS_SIZE = 32,     /* u32 */
    NDA_OFF_STACK_SIZE = 36,   /* u32, must be VM_STACK_SIZE (0 accepted as default) */
    NDA_OFF_HEAP_SIZE = 40,    /* u32, heap window the program asks for */
    NDA_OFF_RELOC_COUNT = 44,  /* u32 */
    NDA_OFF_IMPORT_COUNT = 48, /* u32 */
    NDA_OFF_RESERVED = 52,     /* 12 bytes, zero */
    NDA_OFF_SHA256 = 64,       /* 32 bytes */
    NDA_HDR_SIZE = 96,
};

/* Flags. */
enum {
    NDA_FLAG_ISA_V4 = 1u << 0, /* uses v4 instructions (informational) */
    NDA_FLAG_ALL = NDA_FLAG_ISA_V4,
};

/* Relocation: the loader adds the run-time address of segment `seg` to a 64-bit value:
 *   NDA_RELOC_LDDW:   the immediate of the lddw at instruction index `where`;
 *   NDA_RELOC_DATA64: the little-endian word at byte offset `where` of segment `in_seg`
 *                     (rodata or data; e.g. a table of string pointers).
 * The stored value is the offset inside `seg`, at most its size. */
enum {
    NDA_RELOC_OFF_WHERE = 0,   /* u32 */
    NDA_RELOC_OFF_KIND = 4,    /* u8 NDA_RELOC_* */
    NDA_RELOC_OFF_SEG = 5,     /* u8 NDA_SEG_* the value points into */
    NDA_RELOC_OFF_IN_SEG = 6,  /* u8 NDA_SEG_* holding the word (DATA64), else 0 */
    NDA_RELOC_OFF_PAD = 7,     /* u8 zero */
    NDA_RELOC_SIZE = 8,
};
enum { NDA_RELOC_LDDW = 1, NDA_RELOC_DATA64 = 2 };
enum { NDA_SEG_RODATA = 1, NDA_SEG_DATA = 2, NDA_SEG_BSS = 3 };

/* Import: helper id used by `call id` in the code, and the helper's name. */
enum {
    NDA_IMPORT_OFF_ID = 0,     /* u32 */
    NDA_IMPORT_OFF_NAME = 4,   /* NUL-padded name, at least one NUL */
    NDA_IMPORT_NAME_MAX = 28,
    NDA_IMPORT_SIZE = 32,
};

static inline uint32_t nda_ld16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t nda_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t nda_ld64(const uint8_t *p)
{
    return (uint64_t)nda_ld32(p) | (uint64_t)nda_ld32(p + 4) << 32;
}
static inline void nda_st16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void nda_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void nda_st64(uint8_t *p, uint64_t v)
{
    nda_st32(p, (uint32_t)v);
    nda_st32(p + 4, (uint32_t)(v >> 32));
}

#endif
