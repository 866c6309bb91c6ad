/* SPDX-License-Identifier: MIT
 *
 * The Windows console's part of _gale (console_win.c): console control
 * events delivered to a Python callable as stop requests.
 */
#ifndef GALE_CONSOLE_WIN_H
#define GALE_CONSOLE_WIN_H

/* _gale.set_console_stop_handler(callable | None): METH_O. */
struct _object *gale_console_set_stop_handler(struct _object *module, struct _object *handler);

#endif /* GALE_CONSOLE_WIN_H */
