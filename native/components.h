/* SPDX-License-Identifier: MIT
 *
 * What this host is built from (see components.c).
 */
#ifndef GALE_COMPONENTS_H
#define GALE_COMPONENTS_H

/* Adds to module `_gale`:
 *   components       the JSON object cmake/components.py wrote from the pins
 *   linked_versions  {library: version} as the linked libraries report
 *                    their own versions at run time
 * Returns 0, or -1 with a Python exception set. */
int gale_components_add(struct _object *module);

#endif /* GALE_COMPONENTS_H */
