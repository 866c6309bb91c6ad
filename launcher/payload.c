/* SPDX-License-Identifier: MIT
 *
 * Locating the payload (see payload.h for the file layout). The search runs
 * backwards, so the last valid trailer wins, and every candidate is checked
 * against the EOCD that holds it: a stray "GALEPAY1" in app data or in a
 * certificate cannot be mistaken for the trailer.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* fseeko/ftello under -std=c11 */
#define _FILE_OFFSET_BITS 64
#endif
#include "payload.h"
#include "platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t read_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    while (n-- > 0)
        v = (v << 8) | p[n];
    return v;
}

int gale_payload_find(const unsigned char *tail, size_t tail_len,
                      uint64_t file_size, struct gale_payload *out)
{
    const size_t need = GALE_PAYLOAD_EOCD_SIZE + GALE_PAYLOAD_TRAILER_SIZE;
    uint64_t tail_start;
    size_t pos;

    if (tail_len < need || tail_len > file_size)
        return -1;
    tail_start = file_size - tail_len;
    for (pos = tail_len - need + 1; pos-- > 0;) {
        const unsigned char *eocd = tail + pos;
        const unsigned char *trailer = eocd + GALE_PAYLOAD_EOCD_SIZE;
        uint64_t end, offset, size;
        int i;

        if (memcmp(eocd, "PK\005\006", 4) != 0 ||
            read_le(eocd + 20, 2) != GALE_PAYLOAD_TRAILER_SIZE ||
            memcmp(trailer, GALE_PAYLOAD_MAGIC, 8) != 0)
            continue;
        end = tail_start + pos + need;
        offset = read_le(trailer + 8, 8);
        size = read_le(trailer + 16, 8);
        if (size < need || offset > end || end - offset != size)
            continue;
        out->offset = offset;
        out->size = size;
        for (i = 0; i < 32; i++)
            snprintf(out->digest_hex + 2 * i, 3, "%02x", trailer[24 + i]);
        return 0;
    }
    return -1;
}

/* Reads the last `len` bytes of `f` (of `size` bytes) into `buf`. */
static int read_tail(FILE *f, long long size, size_t len, unsigned char *buf)
{
#ifdef _WIN32
    if (_fseeki64(f, size - (long long)len, SEEK_SET) != 0)
#else
    if (fseeko(f, (off_t)(size - (long long)len), SEEK_SET) != 0)
#endif
        return -1;
    return fread(buf, 1, len, f) == len ? 0 : -1;
}

int gale_payload_locate(const char *path, struct gale_payload *out)
{
    /* The trailer ends the file unless a signature follows it: a small
     * read finds it then, and only a signed file needs the whole scan. */
    static const size_t scans[] = {GALE_PAYLOAD_FIRST_SCAN, GALE_PAYLOAD_SCAN};
    FILE *f;
    long long size;
    size_t len, i;
    unsigned char *buf = NULL;
    int rc = -1, saved;

    f = gale_platform_fopen(path, "rb");
    if (f == NULL)
        return -1;
#ifdef _WIN32
    if (_fseeki64(f, 0, SEEK_END) != 0 || (size = _ftelli64(f)) < 0)
        goto end;
#else
    if (fseeko(f, 0, SEEK_END) != 0 || (size = (long long)ftello(f)) < 0)
        goto end;
#endif
    buf = malloc(GALE_PAYLOAD_SCAN);
    if (buf == NULL)
        goto end;
    for (i = 0; i < sizeof scans / sizeof scans[0]; i++) {
        len = size < (long long)scans[i] ? (size_t)size : scans[i];
        if (read_tail(f, size, len, buf) != 0)
            goto end;
        if (gale_payload_find(buf, len, (uint64_t)size, out) == 0) {
            rc = 0;
            goto end;
        }
        if (len == (size_t)size)
            break; /* the whole file was read */
    }
    errno = ENOEXEC;
end:
    saved = errno;
    free(buf);
    fclose(f);
    errno = saved;
    return rc;
}
