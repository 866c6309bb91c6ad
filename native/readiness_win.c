/* SPDX-License-Identifier: MIT
 *
 * _gale.Readiness: add_reader/add_writer semantics for any number of
 * sockets, on the completion port the asyncio Proactor already waits on,
 * so there is no helper thread and no select() limit.
 *
 * One state per registered socket holds its AFD poll (afd_win.c), the way
 * mio's selector and wepoll keep theirs:
 *
 *   modify(fd, mask)  records what the loop wants and queues the socket;
 *   wait(ms, arm)     first (re)starts the polls of queued sockets, then
 *                     dequeues up to BATCH packets from the port. Packets
 *                     of this object's polls become (fd, mask) readiness;
 *                     every other packet is handed back untouched for the
 *                     Proactor to finish as it always does.
 *
 * A socket whose poll reported readiness is queued again, so its next poll
 * starts only at the next wait(), after the loop has run the callbacks: if
 * the data is still unread, that poll completes at once. That is the level
 * triggering asyncio expects. A changed mask cancels the poll in flight and
 * the cancellation's packet re-queues it with the new mask. A state stays
 * allocated while its poll is pending, since the driver writes into it; a
 * removed socket's state is freed when its last packet arrives. A socket
 * the app closed reports LOCAL_CLOSE and is forgotten without an event.
 *
 * Errors are raised, never swallowed: a failed wait or a poll that cannot
 * be started for a reason other than a closed socket is the loop breaking,
 * and the loop (winloop.py) ends Gale loudly on it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first, as CPython requires */

#include "readiness_win.h"
#include "afd_win.h"

#include <stdlib.h>

#define WANT_READ 1u
#define WANT_WRITE 2u
#define BATCH 256
#define STATE_MAGIC 0x47616c65u

struct sock_state {
    struct gale_afd_poll poll; /* first: a packet's OVERLAPPED is &poll.iosb */
    unsigned magic;
    SOCKET sock, base;
    unsigned wanted;   /* WANT_READ | WANT_WRITE */
    ULONG polled;      /* the AFD events of the poll in flight */
    int pending;       /* a poll is in flight (its packet not yet dequeued) */
    int dead;          /* unregistered: freed when its packet comes */
    int queued;
    struct sock_state *prev, *next; /* the update queue */
};

typedef struct {
    PyObject_HEAD
    HANDLE port;      /* the Proactor's; not ours to close */
    HANDLE helper;    /* the AFD handle polls are issued on */
    PyObject *states; /* fd -> int(struct sock_state *) */
    struct sock_state *queue;
    Py_ssize_t pending;   /* polls in flight, dead ones included */
    long fault_after;     /* debug: waits before one fails; -1 for never */
    OVERLAPPED_ENTRY entries[BATCH];
} Readiness;

static ULONG afd_events(unsigned wanted)
{
    ULONG events = GALE_AFD_LOCAL_CLOSE;

    /* Hang-ups and errors wake readers and writers alike, as epoll's
     * EPOLLHUP and EPOLLERR do: the next recv() or send() says what
     * happened. */
    if (wanted & WANT_READ)
        events |= GALE_AFD_RECEIVE | GALE_AFD_ACCEPT | GALE_AFD_DISCONNECT | GALE_AFD_ABORT |
                  GALE_AFD_CONNECT_FAIL;
    if (wanted & WANT_WRITE)
        events |= GALE_AFD_SEND | GALE_AFD_ABORT | GALE_AFD_CONNECT_FAIL;
    return events;
}

static unsigned ready_mask(ULONG events)
{
    unsigned mask = 0;

    if (events & (GALE_AFD_RECEIVE | GALE_AFD_ACCEPT | GALE_AFD_DISCONNECT | GALE_AFD_ABORT |
                  GALE_AFD_CONNECT_FAIL))
        mask |= WANT_READ;
    if (events & (GALE_AFD_SEND | GALE_AFD_ABORT | GALE_AFD_CONNECT_FAIL))
        mask |= WANT_WRITE;
    return mask;
}

static void queue_push(Readiness *self, struct sock_state *st)
{
    if (st->queued)
        return;
    st->queued = 1;
    st->prev = NULL;
    st->next = self->queue;
    if (self->queue != NULL)
        self->queue->prev = st;
    self->queue = st;
}

static void queue_remove(Readiness *self, struct sock_state *st)
{
    if (!st->queued)
        return;
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        self->queue = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    st->queued = 0;
    st->prev = st->next = NULL;
}

static void state_free(struct sock_state *st)
{
    st->magic = 0;
    free(st);
}

/* Forgets `st`: out of the map and the queue, freed now or, with a poll in
 * flight, once its cancelled packet arrives. */
static int state_drop(Readiness *self, struct sock_state *st)
{
    PyObject *key = PyLong_FromUnsignedLongLong((unsigned long long)st->sock);
    PyObject *item;
    int rc = 0;

    if (key == NULL)
        return -1;
    item = PyDict_GetItemWithError(self->states, key);
    if (item != NULL && PyLong_AsVoidPtr(item) == st)
        rc = PyDict_DelItem(self->states, key);
    Py_DECREF(key);
    queue_remove(self, st);
    if (!st->pending) {
        state_free(st);
    } else if (!st->dead) {
        st->dead = 1;
        if (gale_afd_poll_cancel(self->helper, &st->poll) < 0 && rc == 0) {
            PyErr_SetFromWindowsErr(0);
            rc = -1;
        }
    }
    return rc;
}

/* Starts the polls the queue asks for. */
static int update(Readiness *self)
{
    while (self->queue != NULL) {
        struct sock_state *st = self->queue;
        ULONG events = afd_events(st->wanted);

        queue_remove(self, st);
        if (st->pending) {
            /* The cancelled poll's packet queues it again. */
            if (st->polled != events && gale_afd_poll_cancel(self->helper, &st->poll) < 0) {
                PyErr_SetFromWindowsErr(0);
                return -1;
            }
            continue;
        }
        if (gale_afd_poll_start(self->helper, &st->poll, st->base, events) < 0) {
            DWORD error = GetLastError();

            if (error == ERROR_INVALID_HANDLE) { /* closed by the app: forget it */
                if (state_drop(self, st) < 0)
                    return -1;
                continue;
            }
            queue_push(self, st);
            PyErr_SetFromWindowsErr((int)error);
            return -1;
        }
        st->pending = 1;
        st->polled = events;
        self->pending++;
    }
    return 0;
}

/* A packet of one of this object's polls. */
static int completed(Readiness *self, struct sock_state *st, PyObject *ready)
{
    ULONG events;
    unsigned mask;

    st->pending = 0;
    self->pending--;
    if (st->dead) {
        state_free(st);
        return 0;
    }
    events = gale_afd_poll_events(&st->poll);
    if (events & GALE_AFD_LOCAL_CLOSE)
        return state_drop(self, st);
    /* A failed poll wakes whoever waits, whose next call meets the error. */
    mask = events == GALE_AFD_FAILED ? st->wanted : ready_mask(events) & st->wanted;
    queue_push(self, st);
    if (mask != 0) {
        PyObject *item = Py_BuildValue("(KI)", (unsigned long long)st->sock, mask);
        int rc = item != NULL ? PyList_Append(ready, item) : -1;

        Py_XDECREF(item);
        return rc;
    }
    return 0;
}

static int check_open(Readiness *self)
{
    if (self->helper == NULL) {
        PyErr_SetString(PyExc_ValueError, "Readiness is closed");
        return -1;
    }
    return 0;
}

static PyObject *readiness_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"port", NULL};
    unsigned long long port;
    Readiness *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "K:Readiness", keywords, &port))
        return NULL;
    if ((self = (Readiness *)type->tp_alloc(type, 0)) == NULL)
        return NULL;
    self->port = (HANDLE)(ULONG_PTR)port;
    self->fault_after = -1;
    if ((self->states = PyDict_New()) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    /* The key tells this object's packets from the Proactor's (which use 0
     * or a pipe handle, never an object's address). */
    if (gale_afd_open(self->port, (ULONG_PTR)self, &self->helper) < 0) {
        PyErr_SetFromWindowsErr(0);
        self->helper = NULL;
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *readiness_modify(Readiness *self, PyObject *args)
{
    unsigned long long fd;
    unsigned int mask;
    PyObject *key, *item;
    struct sock_state *st;

    if (!PyArg_ParseTuple(args, "KI:modify", &fd, &mask) || check_open(self) < 0)
        return NULL;
    if (mask & ~(WANT_READ | WANT_WRITE))
        return PyErr_Format(PyExc_ValueError, "modify: mask %u is not READ|WRITE", mask);
    if ((key = PyLong_FromUnsignedLongLong(fd)) == NULL)
        return NULL;
    item = PyDict_GetItemWithError(self->states, key);
    st = item != NULL ? PyLong_AsVoidPtr(item) : NULL;
    if (PyErr_Occurred())
        goto error;
    if (mask == 0) {
        if (st != NULL && state_drop(self, st) < 0)
            goto error;
        Py_DECREF(key);
        Py_RETURN_NONE;
    }
    if (st == NULL) {
        SOCKET base;

        if (gale_afd_base_socket((SOCKET)fd, &base) < 0) {
            PyErr_SetExcFromWindowsErr(PyExc_OSError, 0);
            goto error;
        }
        if ((st = calloc(1, sizeof *st)) == NULL) {
            PyErr_NoMemory();
            goto error;
        }
        st->magic = STATE_MAGIC;
        st->sock = (SOCKET)fd;
        st->base = base;
        if ((item = PyLong_FromVoidPtr(st)) == NULL ||
            PyDict_SetItem(self->states, key, item) < 0) {
            Py_XDECREF(item);
            state_free(st);
            goto error;
        }
        Py_DECREF(item);
    }
    Py_DECREF(key);
    st->wanted = mask;
    queue_push(self, st);
    Py_RETURN_NONE;
error:
    Py_DECREF(key);
    return NULL;
}

static PyObject *readiness_wait(Readiness *self, PyObject *args)
{
    unsigned long ms;
    int arm = 1;
    HANDLE port = self->port;
    PyObject *completions = NULL, *ready = NULL;
    ULONG count = 0, i;
    DWORD error = 0;
    BOOL ok;

    if (!PyArg_ParseTuple(args, "k|p:wait", &ms, &arm) || check_open(self) < 0 ||
        (arm && update(self) < 0))
        return NULL;
    if (self->fault_after >= 0 && self->fault_after-- == 0)
        port = INVALID_HANDLE_VALUE; /* the injected fault: a real failing call */
    Py_BEGIN_ALLOW_THREADS
    ok = GetQueuedCompletionStatusEx(port, self->entries, BATCH, &count, (DWORD)ms, FALSE);
    if (!ok)
        error = GetLastError();
    Py_END_ALLOW_THREADS
    if (!ok) {
        /* The count is only meaningful on success (Wine sets it to 1 on a
         * timeout). */
        if (error != WAIT_TIMEOUT)
            return PyErr_SetFromWindowsErr((int)error);
        count = 0;
    }
    if ((completions = PyList_New(0)) == NULL || (ready = PyList_New(0)) == NULL)
        goto error;
    for (i = 0; i < count; i++) {
        OVERLAPPED_ENTRY *e = &self->entries[i];
        struct sock_state *st = (struct sock_state *)e->lpOverlapped;

        if (e->lpCompletionKey == (ULONG_PTR)self && st != NULL && st->magic == STATE_MAGIC) {
            if (completed(self, st, ready) < 0)
                goto error;
        } else {
            /* As _overlapped.GetQueuedCompletionStatus gives it. Internal's
             * top half is not part of the status. */
            NTSTATUS status = (NTSTATUS)(e->Internal & 0xffffffffu);
            DWORD err = status == 0 ? 0 : gale_afd_dos_error(status);
            PyObject *item = Py_BuildValue("(kkKK)", (unsigned long)err,
                                           (unsigned long)e->dwNumberOfBytesTransferred,
                                           (unsigned long long)e->lpCompletionKey,
                                           (unsigned long long)(ULONG_PTR)e->lpOverlapped);

            if (item == NULL || PyList_Append(completions, item) < 0) {
                Py_XDECREF(item);
                goto error;
            }
            Py_DECREF(item);
        }
    }
    return Py_BuildValue("(NNO)", completions, ready, count == BATCH ? Py_True : Py_False);
error:
    Py_XDECREF(completions);
    Py_XDECREF(ready);
    return NULL;
}

/* Cancels every poll and forgets every socket; wait() collects the
 * cancelled packets until `pending` is 0. */
static PyObject *readiness_cancel_all(Readiness *self, PyObject *unused)
{
    PyObject *items;
    Py_ssize_t pos;
    int rc = 0;

    (void)unused;
    if (check_open(self) < 0 || (items = PyDict_Values(self->states)) == NULL)
        return NULL;
    for (pos = 0; pos < PyList_GET_SIZE(items); pos++) {
        if (state_drop(self, PyLong_AsVoidPtr(PyList_GET_ITEM(items, pos))) < 0)
            rc = -1;
    }
    Py_DECREF(items);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static void release(Readiness *self)
{
    if (self->helper != NULL) {
        CloseHandle(self->helper);
        self->helper = NULL;
    }
}

/* Closes the helper handle. States whose packets never came stay
 * allocated: the driver may still write into them. */
static PyObject *readiness_close(Readiness *self, PyObject *unused)
{
    (void)unused;
    release(self);
    Py_RETURN_NONE;
}

static PyObject *readiness_inject_fault(Readiness *self, PyObject *arg)
{
    long after = PyLong_AsLong(arg);

    if (after == -1 && PyErr_Occurred())
        return NULL;
    self->fault_after = after;
    Py_RETURN_NONE;
}

static PyObject *readiness_get_pending(Readiness *self, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(self->pending);
}

static void readiness_dealloc(Readiness *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject *value;
    Py_ssize_t pos = 0;

    release(self);
    if (self->states != NULL) {
        while (PyDict_Next(self->states, &pos, NULL, &value)) {
            struct sock_state *st = PyLong_AsVoidPtr(value);

            if (!st->pending)
                state_free(st);
        }
        Py_CLEAR(self->states);
    }
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMethodDef readiness_methods[] = {
    {"modify", (PyCFunction)readiness_modify, METH_VARARGS,
     "modify(fd, mask): wait for READ (1) and/or WRITE (2) on socket fd; 0 forgets it"},
    {"wait", (PyCFunction)readiness_wait, METH_VARARGS,
     "wait(ms, arm=True) -> (completions, ready, more)\n--\n\n"
     "Starts the polls modify() asked for (unless arm is false), then waits up\n"
     "to ms milliseconds for the port. completions: (err, transferred, key,\n"
     "address) of every packet that is not a poll's; ready: (fd, mask) pairs;\n"
     "more: the batch was full. Only the first wait of a loop iteration may\n"
     "arm: a socket re-armed before its callbacks have run would report the\n"
     "same readiness again, and a loop draining a full port would never end."},
    {"cancel_all", (PyCFunction)readiness_cancel_all, METH_NOARGS,
     "cancel_all(): forget every socket; wait() until pending is 0 collects the polls"},
    {"close", (PyCFunction)readiness_close, METH_NOARGS, "close(): close the AFD handle"},
    {"inject_fault", (PyCFunction)readiness_inject_fault, METH_O,
     "inject_fault(n): the wait after n more fails (a debugging aid for tests)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef readiness_getset[] = {
    {"pending", (getter)readiness_get_pending, NULL, "polls in flight", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot readiness_slots[] = {
    {Py_tp_new, readiness_new},
    {Py_tp_dealloc, readiness_dealloc},
    {Py_tp_methods, readiness_methods},
    {Py_tp_getset, readiness_getset},
    {Py_tp_doc, "Readiness(port): socket readiness through AFD polls on an I/O completion port"},
    {0, NULL},
};

static PyType_Spec readiness_spec = {
    .name = "_gale.Readiness",
    .basicsize = sizeof(Readiness),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = readiness_slots,
};

int gale_readiness_add(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &readiness_spec, NULL);

    if (type == NULL)
        return -1;
    return PyModule_Add(module, "Readiness", type);
}
