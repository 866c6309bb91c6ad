/* SPDX-License-Identifier: MIT
 *
 * A standalone probe, outside Gale: N TCP connections dropped at once,
 * under Wine, with one overlapped IOCTL_AFD_POLL per socket on an I/O
 * completion port (what Gale, mio, libuv and wepoll do).
 *
 *   afd_drop.exe PORT
 *
 * Listens on 127.0.0.1:PORT. Every accepted socket gets one poll for
 * RECEIVE|DISCONNECT|ABORT|LOCAL_CLOSE|CONNECT_FAIL (plus ACCEPT, as Gale
 * asks a reader's poll); the listener gets one for ACCEPT. On a packet:
 *   listener   accept everything pending, poll each new socket, re-poll;
 *   RECEIVE    recv() and echo what came, re-poll;
 *   hang-up    recv() (0 or an error), closesocket(), forget it.
 * No cancel, no re-poll of a closing socket: the least any loop can do.
 * Prints "open N" whenever the count changes by 10 % of the peak or reaches
 * 0, with the time since the first hang-up it handled (the driver's own
 * echo check counts as one: the driver times from its kill instead), and
 * the number of GetQueuedCompletionStatusEx calls and packets since then.
 *
 * Built by tests/CMakeLists.txt for the Windows targets (build/<target>/afd_drop.exe);
 * tests/bench/afd_drop_probe.py drives it (docs/windows-event-loop.md).
 */
#include <winsock2.h>
#include <windows.h>
#include <winternl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

#define IOCTL_AFD_POLL 0x00012024
#define AFD_RECEIVE 0x0001u
#define AFD_DISCONNECT 0x0008u
#define AFD_ABORT 0x0010u
#define AFD_LOCAL_CLOSE 0x0020u
#define AFD_ACCEPT 0x0080u
#define AFD_CONNECT_FAIL 0x0100u
#define WANT (AFD_RECEIVE | AFD_ACCEPT | AFD_DISCONNECT | AFD_ABORT | AFD_LOCAL_CLOSE | AFD_CONNECT_FAIL)
#define BATCH 256

typedef NTSTATUS(NTAPI *create_fn)(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, PIO_STATUS_BLOCK,
                                   PLARGE_INTEGER, ULONG, ULONG, ULONG, ULONG, PVOID, ULONG);
typedef NTSTATUS(NTAPI *ioctl_fn)(HANDLE, HANDLE, PIO_APC_ROUTINE, PVOID, PIO_STATUS_BLOCK, ULONG,
                                  PVOID, ULONG, PVOID, ULONG);

struct state {
    IO_STATUS_BLOCK iosb; /* first: the packet's OVERLAPPED */
    struct {
        LARGE_INTEGER timeout;
        ULONG count, exclusive;
        HANDLE handle;
        ULONG events;
        NTSTATUS status;
    } info;
    SOCKET sock;
    int listener;
};

static ioctl_fn nt_ioctl;
static HANDLE helper;
static long open_count, peak;
static LARGE_INTEGER freq, burst_start;
static int in_burst;
static long long gqcs_calls, packets;

static double since(LARGE_INTEGER t0)
{
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    return (double)(now.QuadPart - t0.QuadPart) / (double)freq.QuadPart;
}

static void poll_start(struct state *st, ULONG events)
{
    NTSTATUS status;

    st->info.timeout.QuadPart = INT64_MAX;
    st->info.count = 1;
    st->info.exclusive = FALSE;
    st->info.handle = (HANDLE)st->sock;
    st->info.events = events;
    st->info.status = 0;
    st->iosb.Status = 0x103; /* STATUS_PENDING */
    status = nt_ioctl(helper, NULL, NULL, &st->iosb, &st->iosb, IOCTL_AFD_POLL, &st->info,
                      sizeof st->info, &st->info, sizeof st->info);
    if (status != 0 && status != 0x103) {
        fprintf(stderr, "poll start failed: %#lx\n", (unsigned long)status);
        exit(2);
    }
}

static void report(void)
{
    static long last_reported = -1;
    long step = peak / 10 > 0 ? peak / 10 : 1;

    if (open_count == last_reported)
        return;
    if (open_count == 0 || open_count == peak || last_reported < 0 ||
        labs(open_count - last_reported) >= step) {
        printf("open %ld t=%.3f calls=%lld packets=%lld\n", open_count,
               in_burst ? since(burst_start) : 0.0, gqcs_calls, packets);
        fflush(stdout);
        last_reported = open_count;
    }
}

int main(int argc, char **argv)
{
    static const wchar_t path[] = L"\\Device\\Afd\\Probe";
    UNICODE_STRING name = {sizeof path - sizeof path[0], sizeof path, (PWSTR)path};
    OBJECT_ATTRIBUTES attributes;
    IO_STATUS_BLOCK iosb;
    OVERLAPPED_ENTRY entries[BATCH];
    struct sockaddr_in addr = {0};
    struct state *ls;
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    create_fn nt_create = (create_fn)(void (*)(void))GetProcAddress(ntdll, "NtCreateFile");
    HANDLE port;
    WSADATA wsa;
    SOCKET lsock;
    u_long one = 1;

    nt_ioctl = (ioctl_fn)(void (*)(void))GetProcAddress(ntdll, "NtDeviceIoControlFile");
    if (argc < 2 || WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
        return 2;
    QueryPerformanceFrequency(&freq);
    port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    InitializeObjectAttributes(&attributes, &name, 0, NULL, NULL);
    if (nt_create(&helper, SYNCHRONIZE, &attributes, &iosb, NULL, 0, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  FILE_OPEN, 0, NULL, 0) != 0 ||
        CreateIoCompletionPort(helper, port, 1, 0) == NULL ||
        !SetFileCompletionNotificationModes(helper, FILE_SKIP_SET_EVENT_ON_HANDLE)) {
        fprintf(stderr, "AFD helper: %lu\n", GetLastError());
        return 2;
    }
    lsock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((u_short)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lsock, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lsock, 512) != 0) {
        fprintf(stderr, "listen: %d\n", WSAGetLastError());
        return 2;
    }
    ioctlsocket(lsock, FIONBIO, &one);
    ls = calloc(1, sizeof *ls);
    ls->sock = lsock;
    ls->listener = 1;
    poll_start(ls, AFD_ACCEPT);
    printf("listening\n");
    fflush(stdout);

    for (;;) {
        ULONG count = 0, i;

        if (!GetQueuedCompletionStatusEx(port, entries, BATCH, &count, INFINITE, FALSE))
            return 3;
        gqcs_calls++;
        packets += count;
        for (i = 0; i < count; i++) {
            struct state *st = (struct state *)entries[i].lpOverlapped;
            ULONG events = st->info.count ? st->info.events : 0;

            if (st->iosb.Status != 0)
                events = 0;
            if (st->listener) {
                SOCKET s;

                while ((s = accept(lsock, NULL, NULL)) != INVALID_SOCKET) {
                    struct state *cs = calloc(1, sizeof *cs);

                    ioctlsocket(s, FIONBIO, &one);
                    cs->sock = s;
                    poll_start(cs, WANT);
                    if (++open_count > peak)
                        peak = open_count;
                }
                poll_start(st, AFD_ACCEPT);
                report();
                continue;
            }
            if (events & (AFD_DISCONNECT | AFD_ABORT | AFD_CONNECT_FAIL)) {
                char buf[256];

                if (!in_burst) {
                    in_burst = 1;
                    QueryPerformanceCounter(&burst_start);
                    gqcs_calls = 0;
                    packets = 0;
                }
                recv(st->sock, buf, sizeof buf, 0);
                closesocket(st->sock);
                free(st);
                open_count--;
                report();
                if (open_count == 0)
                    in_burst = 0;
                continue;
            }
            if (events & AFD_RECEIVE) {
                char buf[256];
                int n = recv(st->sock, buf, sizeof buf, 0);

                if (n > 0)
                    send(st->sock, buf, n, 0);
            }
            poll_start(st, WANT);
        }
    }
}
