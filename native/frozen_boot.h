/* SPDX-License-Identifier: MIT
 *
 * The modules a start imports before Gale's importer exists
 * (layout.BOOT_MODULES: the codec search, linecache, warnings, Gale's
 * boot and its finder), frozen into the host by cmake/freeze_boot.py, so
 * that no start reads them through zipimport.
 */
#ifndef GALE_FROZEN_BOOT_H
#define GALE_FROZEN_BOOT_H

/* Points PyImport_FrozenModules at them; call before the interpreter starts. */
void gale_frozen_boot_install(void);

/* Adds to module `_gale`:
 *   frozen_boot      {module name: CRC-32 of its frozen code}, which
 *                    libimport.install() checks against the payload's library
 *   frozen_boot_id   their digest (payload.boot_id), which `gale pack` also
 *                    finds in the host's bytes
 *   end_frozen_boot  turns the frozen copies off once that library's finder
 *                    is installed
 * Returns 0, or -1 with a Python exception set. */
int gale_frozen_boot_add(struct _object *module);

#endif /* GALE_FROZEN_BOOT_H */
