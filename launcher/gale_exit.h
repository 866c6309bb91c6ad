/* SPDX-License-Identifier: MIT
 *
 * Gale's process exit codes: the one list that the launcher, the _gale
 * module (and through it the Python runtime) and docs/reference.md share. A
 * test checks that the reference's table matches this list.
 */
#ifndef GALE_EXIT_H
#define GALE_EXIT_H

/* X(NAME, code, meaning) */
#define GALE_EXIT_CODES(X) \
    X(OK,      0,  "success, including a graceful stop after SIGINT/SIGTERM " \
                   "(Windows: Ctrl+C, Ctrl+Break, closing the console)") \
    X(ERROR,   1,  "unexpected internal error (a bug: run with GALE_DEBUG=1 and report it)") \
    X(USAGE,   2,  "bad command line") \
    X(CONFIG,  3,  "configuration missing, unreadable or invalid") \
    X(APP,     4,  "the app could not be imported or built") \
    X(ADDRESS, 5,  "cannot listen: address in use, not permitted or not available") \
    X(TLS,     6,  "TLS certificate or key cannot be loaded") \
    X(PAYLOAD, 7,  "the embedded payload is missing or damaged") \
    X(INIT,    8,  "the embedded interpreter failed to start") \
    X(PACK,    9,  "gale pack could not write the executable") \
    X(DATA,    10, "the data directory cannot be created or written") \
    X(NOT_ELEVATED,    11, "gale service: the service manager denied access (run elevated)") \
    X(SERVICE_EXISTS,  12, "gale service install: the service, or its display name, already exists") \
    X(NO_SERVICE,      13, "gale service: there is no service of that name") \
    X(SERVICE_FAILED,  14, "gale service: the service failed to start or stop, or a call " \
                           "to the service manager failed (the message says which)") \
    X(SERVICE_DELETED, 15, "gale service: the service is marked for deletion") \
    X(EVENT_LOOP,      16, "the event loop's readiness machinery failed while serving " \
                           "(the log says why); a service's recovery actions restart it")

enum gale_exit {
#define GALE_EXIT_ENUM(name, code, meaning) GALE_EXIT_##name = code,
    GALE_EXIT_CODES(GALE_EXIT_ENUM)
#undef GALE_EXIT_ENUM
};

#endif /* GALE_EXIT_H */
