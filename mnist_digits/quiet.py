"""Clean output from the commands: no TensorFlow start-up lines, no traceback on a closed pipe."""

import functools
import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType

# TensorFlow's own C++ log lines below errors (read when TensorFlow loads).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SIGPIPE_STATUS = 128 + 13  # what a shell reports for a process ended by SIGPIPE


def import_tensorflow_quietly(module: str) -> ModuleType:
    """Import `module`, which loads TensorFlow, without the lines TensorFlow's
    libraries print while they load (`cudart_stub.cc ... Could not find cuda
    drivers`, `oneDNN custom operations are on`).

    TF 2.21 logs those through absl before absl's logging is set up, when every
    line goes straight to file descriptor 2 and TF_CPP_MIN_LOG_LEVEL is not
    read; so descriptor 2 points at /dev/null for the import alone. A failed
    import still raises, and Python reports it after the descriptor is back.
    """
    if module in sys.modules:
        return sys.modules[module]
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        return importlib.import_module(module)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_on_closed_pipe(main: Callable[..., int]) -> Callable[..., int]:
    """Let a command whose reader went away (`| head -1`) end as Unix tools
    do: silently, with the status of SIGPIPE (141), not a traceback."""

    @functools.wraps(main)
    def wrapped(*args, **kwargs) -> int:
        try:
            status = main(*args, **kwargs)
            sys.stdout.flush()  # now, while a closed pipe can still be caught
            return status
        except BrokenPipeError:
            # Python flushes stdout again at exit: give it somewhere to go.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return SIGPIPE_STATUS

    return wrapped
