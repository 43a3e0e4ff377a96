"""Secret key files, written once (mode 0600, never over another) and on disk before
anything points at them.

A store records its log key's verifier as soon as the private key is written, and a
witness prints its verifier key for others to register: a private key still in the
page cache when the machine stops would leave a recorded verifier with no key to
sign for it, for good. So the file and its folder are synced before returning.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path


def write_new_secret(path: Path, text: str) -> None:
    """Create `path` with `text`, synced to disk; FileExistsError if it exists. A write
    that fails leaves no file behind, so a next attempt does not read half a key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        except OSError as exc:
            # Some filesystems (network, FUSE) cannot sync a folder: the file is synced.
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
                raise
        finally:
            os.close(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
