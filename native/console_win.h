/* SPDX-License-Identifier: MIT
 *
 * The Windows console's part of _gale (console_win.c): console control
 * events delivered to a Python callable as stop requests.
 */
#ifndef GALE_CONSOLE_WIN_H
#define GALE_CONSOLE_WIN_H

/* _gale.set_console_stop_handler(callable | None): METH_O. */
struct _object *gale_console_set_stop_handler(struct _object *module, struct _object *handler);

/* Calls the stop callable, if one is set, from any thread that is not
 * Python's; 1 if it was called. The service's STOP goes through it too. */
int gale_console_call_stop_handler(void);

/* _gale.set_console_title(text): METH_O. */
struct _object *gale_console_set_title(struct _object *module, struct _object *text);

#endif /* GALE_CONSOLE_WIN_H */
