/* SPDX-License-Identifier: MIT
 *
 * The AFD driver's poll request (afd_win.c): the one file that makes NT
 * calls for Gale's readiness loop (readiness_win.c). A poll asks the socket
 * driver to complete one request when any of the given events holds for a
 * socket; the completion lands on the I/O completion port the helper handle
 * is associated with, carrying the address of the request's status block.
 */
#ifndef GALE_AFD_WIN_H
#define GALE_AFD_WIN_H

#include <winsock2.h>
#include <windows.h>
#include <winternl.h>

/* The events a poll can wait for (the AFD driver's own bit values). */
#define GALE_AFD_RECEIVE      0x0001u
#define GALE_AFD_SEND         0x0004u
#define GALE_AFD_DISCONNECT   0x0008u
#define GALE_AFD_ABORT        0x0010u
#define GALE_AFD_LOCAL_CLOSE  0x0020u
#define GALE_AFD_ACCEPT       0x0080u
#define GALE_AFD_CONNECT_FAIL 0x0100u

/* One poll request. The status block comes first: the completion packet's
 * OVERLAPPED pointer is its address. It must not move or be freed while
 * the request is pending. */
struct gale_afd_poll {
    IO_STATUS_BLOCK iosb;
    struct {
        LARGE_INTEGER timeout;
        ULONG handle_count;
        ULONG exclusive;
        struct {
            HANDLE handle;
            ULONG events;
            NTSTATUS status;
        } handle;
    } info;
};

/* Opens an AFD helper handle and associates it with `port` under `key`.
 * 0, or -1 with the Windows error in GetLastError(). */
int gale_afd_open(HANDLE port, ULONG_PTR key, HANDLE *helper);

/* The socket the AFD driver knows `sock` by (below any layered provider).
 * 0, or -1 with the Winsock error in GetLastError(). */
int gale_afd_base_socket(SOCKET sock, SOCKET *base);

/* Starts a poll for `events` on `base`. On 0 exactly one completion packet
 * will come for it (also when the events already hold); on -1 none will,
 * and GetLastError() says why (ERROR_INVALID_HANDLE: the socket is closed). */
int gale_afd_poll_start(HANDLE helper, struct gale_afd_poll *poll, SOCKET base, ULONG events);

/* Asks a pending poll to complete now (with STATUS_CANCELLED). 0 if it was
 * cancelled or had already completed; -1 with GetLastError() otherwise. */
int gale_afd_poll_cancel(HANDLE helper, struct gale_afd_poll *poll);

/* A completed poll's outcome: the events that hold (0 if it was cancelled,
 * timed out or displaced), or GALE_AFD_FAILED if the request failed. */
#define GALE_AFD_FAILED 0x80000000u
ULONG gale_afd_poll_events(const struct gale_afd_poll *poll);

/* The Windows error for an NTSTATUS. */
DWORD gale_afd_dos_error(NTSTATUS status);

#endif /* GALE_AFD_WIN_H */
