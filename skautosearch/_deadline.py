"""A fit's deadline: ``candidate_timeout`` interrupts a fit that runs too long.

In a process's main thread (loky workers, ``n_jobs=1``) a ``SIGALRM`` timer raises
:class:`CandidateTimeout`, which also cuts a blocking call such as ``time.sleep``. A
caller's own pending alarm (``signal.alarm``, ``setitimer``, pytest-timeout) is kept:
its handler still runs when its time comes, and after the fit the caller's handler and
timer are restored with the time they had left. In other threads (Dask workers, the
threading backend) the exception is raised asynchronously in the fitting thread and
lands at its next Python bytecode: that covers Keras (a Python loop over steps) and
most of scikit-learn, not a long call inside C. A loky worker still busy ``_GRACE`` s
after the deadline is killed, after leaving a tombstone file that tells the parent why
its worker died.
"""

import ctypes
import multiprocessing
import os
import signal
import threading
import time

# Extra seconds a timed-out fit gets to react before its (loky) worker is killed.
_GRACE = 2.0
# Shortest timer we arm: setitimer(0) would disarm instead of firing at once.
_TICK = 1e-6


class CandidateTimeout(BaseException):
    """Raised inside a fit that ran longer than the search's ``candidate_timeout``.

    A ``BaseException``, like ``KeyboardInterrupt``, so that an ``except Exception`` in
    the user's code inside the fit (or scikit-learn's around it) cannot swallow it.
    """


def _call_handler(handler, signum, frame):
    """Do what ``handler`` (a ``signal.signal`` value) would have done with ``signum``."""
    if callable(handler):
        handler(signum, frame)
    elif handler != signal.SIG_IGN:  # SIG_DFL, or a handler installed outside Python
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


class _Alarm:
    """Our ``SIGALRM`` in the main thread, sharing the timer with the caller's alarm."""

    def __init__(self, timeout, on_expiry):
        self.timeout = timeout
        self.on_expiry = on_expiry
        self._start = time.monotonic()
        self._handler = signal.signal(signal.SIGALRM, self._on_alarm)
        remaining, interval = signal.setitimer(signal.ITIMER_REAL, 0)
        # The caller's alarm: seconds from our start to its next firing, and its period.
        self._theirs = (remaining, interval) if remaining > 0 else None
        signal.setitimer(signal.ITIMER_REAL, self._next())

    def _elapsed(self):
        return time.monotonic() - self._start

    def _next(self):
        """Seconds to the earlier of our deadline and the caller's alarm."""
        due = self.timeout if self._theirs is None else min(self.timeout, self._theirs[0])
        return max(due - self._elapsed(), _TICK)

    def _on_alarm(self, signum, frame):
        if self._theirs is not None and self._elapsed() >= self._theirs[0] - 1e-3:
            # The caller's alarm is due: its handler runs, as without us.
            due, interval = self._theirs
            self._theirs = (due + interval, interval) if interval else None
            signal.setitimer(signal.ITIMER_REAL, self._next())
            _call_handler(self._handler, signum, frame)
        elif self._elapsed() >= self.timeout - 1e-3:
            self.on_expiry()
        else:
            signal.setitimer(signal.ITIMER_REAL, self._next())

    def cancel(self):
        """Disarm ours; give the caller back its handler and what is left of its timer."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._handler if self._handler is not None
                      else signal.SIG_DFL)
        if self._theirs is not None:
            due, interval = self._theirs
            signal.setitimer(signal.ITIMER_REAL, max(due - self._elapsed(), _TICK), interval)


class Deadline:
    """Interrupt the current fit after ``timeout`` s; kill a loky worker later on.

    Use as a context manager around the fit, and call :meth:`stop` as soon as the fit
    returns. ``expired`` tells whether the deadline was reached.
    """

    def __init__(self, timeout, tombstone):
        self.timeout = timeout
        self.tombstone = tombstone
        self.expired = False
        self._lock = threading.Lock()
        self._running = False
        self._timers = []
        self._alarm = None

    def __enter__(self):
        if self.timeout is None:
            return self
        self._thread_id = threading.get_ident()
        self._running = True
        if threading.current_thread() is threading.main_thread() and hasattr(
            signal, "setitimer"
        ):
            self._alarm = _Alarm(self.timeout, self._on_alarm)
        else:
            self._timers.append(threading.Timer(self.timeout, self._interrupt))
        if multiprocessing.current_process().name.startswith("LokyProcess"):
            self._timers.append(threading.Timer(self.timeout + _GRACE, self._kill))
        for timer in self._timers:
            timer.daemon = True
            timer.start()
        return self

    def _on_alarm(self):
        # No lock here: the handler runs in the main thread, which may hold it.
        if self._running:
            self.expired = True
            raise CandidateTimeout

    def _interrupt(self):
        with self._lock:
            if not self._running:
                return
            self.expired = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread_id), ctypes.py_object(CandidateTimeout)
            )

    def _kill(self):
        with self._lock:
            if not self._running:
                return
            with open(self.tombstone, "w"):
                pass
            os._exit(70)

    def stop(self):
        with self._lock:
            self._running = False
        if self._alarm is not None:
            self._alarm.cancel()
            self._alarm = None
        for timer in self._timers:
            timer.cancel()

    def __exit__(self, *exc_info):
        self.stop()
        return False
