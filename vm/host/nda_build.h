/* vm/host/nda_build.h: writing .nda files on the host (see nda_build.c and docs/NDA.md). */
#ifndef VM_HOST_NDA_BUILD_H
#define VM_HOST_NDA_BUILD_H
#include <stddef.h>
#include <stdint.h>

typedef struct nda_image {
    uint32_t flags, entry;
    const uint8_t *code;        /* code_count little-endian instruction words */
    uint32_t code_count;
    const uint8_t *rodata, *data;
    uint32_t rodata_size, data_size, bss_size, heap_size;
    const uint8_t *relocs;      /* reloc_count entries of NDA_RELOC_SIZE bytes */
    uint32_t reloc_count;
    const uint8_t *import_ids;  /* [VM_MAX_HELPERS] flags: helper ids to import by name */
} nda_image;

/* ELF object -> malloc'ed .nda image.  Returns 0, or -1 with a message in err. */
int nda_from_elf(const uint8_t *elf, size_t len, uint8_t **out, size_t *out_len, char *err,
                 size_t errlen);
/* Serialises img (hash included) into a malloc'ed buffer.  Returns 0 or -1. */
int nda_write_image(const nda_image *img, uint8_t **out, size_t *out_len);
/* Recomputes the SHA-256 field of an image in place (tests use it after editing fields). */
void nda_seal(uint8_t *image, size_t size);

#endif
