/* SPDX-License-Identifier: MIT
 *
 * libFuzzer target for locating the payload (launcher/payload.c). The input
 * is the image of an executable file. Each run feeds it to
 *   - gale_payload_find over the whole image, and over its second half as
 *     the tail of a larger file (offsets stay absolute);
 *   - gale_payload_locate on a memfd holding the image, the way the
 *     launcher reads its own executable.
 * Besides the sanitizers, the answers are checked against a reference
 * written from payload.h's description alone (the last EOCD whose comment
 * is a consistent trailer wins), and the two entry points against each
 * other. Any disagreement aborts, and libFuzzer saves the input.
 */
#define _GNU_SOURCE /* memfd_create */
#include "payload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NEED (GALE_PAYLOAD_EOCD_SIZE + GALE_PAYLOAD_TRAILER_SIZE)

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* payload.h's rule, spelled out: the last position in `tail` where an EOCD
 * with a 56-byte comment holding "GALEPAY1" ends, whose offset and size
 * describe a zip of at least EOCD + trailer that ends right there. */
static int reference(const unsigned char *tail, size_t len, uint64_t file_size,
                     struct gale_payload *out)
{
    size_t pos;

    if (len > file_size || len < NEED)
        return -1;
    for (pos = len - NEED + 1; pos-- > 0;) {
        const unsigned char *e = tail + pos, *t = e + GALE_PAYLOAD_EOCD_SIZE;
        uint64_t end = file_size - len + pos + NEED, offset, size;

        if (memcmp(e, "PK\5\6", 4) != 0 || le(e + 20, 2) != GALE_PAYLOAD_TRAILER_SIZE ||
            memcmp(t, GALE_PAYLOAD_MAGIC, 8) != 0)
            continue;
        offset = le(t + 8, 8);
        size = le(t + 16, 8);
        if (size < NEED || offset > end || size != end - offset)
            continue;
        out->offset = offset;
        out->size = size;
        return 0;
    }
    return -1;
}

static void check_hex(const struct gale_payload *p)
{
    int i;

    for (i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", p->digest_hex[i]) || p->digest_hex[i] == '\0')
            abort();
    if (p->digest_hex[64] != '\0')
        abort();
}

/* find() over `tail` (the end of a file of `file_size` bytes) must agree
 * with the reference, and a result must lie inside the file. */
static int find_checked(const unsigned char *tail, size_t len, uint64_t file_size,
                        struct gale_payload *got)
{
    struct gale_payload want;
    int rc, ref;

    memset(got, 0x55, sizeof *got);
    rc = gale_payload_find(tail, len, file_size, got);
    ref = reference(tail, len, file_size, &want);
    if (rc != ref)
        abort();
    if (rc == 0) {
        if (got->offset != want.offset || got->size != want.size)
            abort();
        if (got->size < NEED || got->offset + got->size > file_size)
            abort();
        check_hex(got);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, exactly `size` bytes long, so ASan sees any read past
     * the end of the image. */
    unsigned char *image = malloc(size ? size : 1);
    struct gale_payload whole, half, located;
    char path[64];
    int fd, rc_whole, rc_located;

    if (image == NULL)
        return 0;
    memcpy(image, data, size);

    rc_whole = find_checked(image, size, size, &whole);
    /* The second half as the tail of a file 1 GiB longer: every offset
     * shifts, nothing else changes. */
    find_checked(image + size / 2, size - size / 2, (uint64_t)size + (1u << 30), &half);

    fd = memfd_create("gale-fuzz-payload", 0);
    if (fd < 0 || (size && write(fd, image, size) != (ssize_t)size))
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    errno = 0;
    rc_located = gale_payload_locate(path, &located);
    /* Within GALE_PAYLOAD_SCAN the file is read whole (the inputs are
     * smaller than that), so both must find the same trailer. */
    if (size <= GALE_PAYLOAD_SCAN) {
        if (rc_located != rc_whole)
            abort();
        if (rc_located == 0 &&
            (located.offset != whole.offset || located.size != whole.size ||
             strcmp(located.digest_hex, whole.digest_hex) != 0))
            abort();
        if (rc_located != 0 && errno != ENOEXEC)
            abort();
    }
    close(fd);
    free(image);
    return 0;
}
