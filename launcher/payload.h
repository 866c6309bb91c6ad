/* SPDX-License-Identifier: MIT
 *
 * Locating the payload: the zip of .pyc and app files carried at the end of
 * the executable. The executable is
 *
 *     host | zip (entries, central directory, EOCD + 56-byte comment) | [cert]
 *
 * The zip's end-of-central-directory comment is Gale's trailer:
 *
 *     "GALEPAY1" | u64le offset | u64le size | sha256[32]
 *
 * offset is where the zip starts in the file, size its length up to the end
 * of the comment, and the digest covers the zip bytes before the EOCD record.
 * Anything after the zip is tolerated (an Authenticode certificate table is
 * appended there by signing tools), within GALE_PAYLOAD_SCAN bytes.
 */
#ifndef GALE_PAYLOAD_H
#define GALE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define GALE_PAYLOAD_MAGIC "GALEPAY1"
#define GALE_PAYLOAD_TRAILER_SIZE 56
#define GALE_PAYLOAD_EOCD_SIZE 22
/* How far from the end the trailer may sit: room for a signature's
 * certificate table after the zip. */
#define GALE_PAYLOAD_SCAN (1024 * 1024)
/* Read first: enough when no signature follows the payload. */
#define GALE_PAYLOAD_FIRST_SCAN (64 * 1024)

struct gale_payload {
    uint64_t offset;     /* file offset of the zip's first byte */
    uint64_t size;       /* bytes of the zip, trailer included */
    char digest_hex[65]; /* SHA-256 of the zip before its EOCD, lowercase hex */
};

/* Looks for the trailer in `tail`, the last `tail_len` bytes of a file of
 * `file_size` bytes. Returns 0 and fills `out`, or -1 if there is no valid
 * trailer. Pure: no I/O, so the unit tests feed it buffers. */
int gale_payload_find(const unsigned char *tail, size_t tail_len,
                      uint64_t file_size, struct gale_payload *out);

/* Reads the end of the file at `path` and runs gale_payload_find on it.
 * Returns 0, or -1 with errno set (ENOENT-like errors from the OS, or
 * ENOEXEC when the file holds no payload). */
int gale_payload_locate(const char *path, struct gale_payload *out);

#endif /* GALE_PAYLOAD_H */
