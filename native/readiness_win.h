/* SPDX-License-Identifier: MIT
 *
 * _gale.Readiness (readiness_win.c): level-triggered socket readiness on a
 * Windows I/O completion port, for Gale's event loop (pylib/gale/winloop.py).
 */
#ifndef GALE_READINESS_WIN_H
#define GALE_READINESS_WIN_H

/* Adds the Readiness type to the _gale module; 0 or -1 with an exception. */
int gale_readiness_add(struct _object *module);

#endif /* GALE_READINESS_WIN_H */
