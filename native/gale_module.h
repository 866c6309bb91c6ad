/* SPDX-License-Identifier: MIT
 *
 * _gale: the one bridge between the launcher (C) and Gale's runtime
 * (Python). The launcher hands over what only it knows (its own path, where
 * the payload sits, the exit codes) before the interpreter starts.
 */
#ifndef GALE_MODULE_H
#define GALE_MODULE_H

#include <stdint.h>

struct gale_module_info {
    const char *version;        /* Gale's version */
    const char *target;         /* linux-x86_64, win-x64, win-arm64 */
    const char *executable;     /* UTF-8 */
    uint64_t payload_offset;
    uint64_t payload_size;
    const char *payload_digest; /* hex SHA-256 */
    const char *service_name;   /* the Windows service's name in service mode, else NULL */
    int console;                /* enum gale_console_kind (launcher/service.h) */
};

/* Copies nothing: the strings must outlive the interpreter. */
void gale_module_configure(const struct gale_module_info *info);

/* Whether `gale python`'s code reported a damaged payload (its exit code
 * is then PAYLOAD, not 1). */
int gale_module_payload_damaged(void);

/* PyInit function for the built-in module "_gale" (returns PyObject *). */
struct _object *gale_module_init(void);

#endif /* GALE_MODULE_H */
