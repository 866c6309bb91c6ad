/* SPDX-License-Identifier: MIT
 *
 * SHA-1, for the one place Windows defines an identifier by it: a
 * service's SID (service.c). Not for anything that needs collision
 * resistance.
 */
#ifndef GALE_SHA1_H
#define GALE_SHA1_H

#include <stddef.h>

void gale_sha1(const void *data, size_t len, unsigned char digest[20]);

#endif /* GALE_SHA1_H */
