"""Reading secrets from files that only their owner may read (key files, webhook secrets)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["read_private_file"]


def read_private_file(path: Path, *, max_bytes: int, error: type[Exception], label: str) -> bytes:
    """The bytes of ``path``, after checking on the open descriptor (no race with a ``chmod`` or a swap)
    that it is a regular file without any group or other permission (mode 0600 or stricter).

    ``label`` names the file in messages (``"key file"``); messages never contain its content.

    Raises:
        FileNotFoundError: ``path`` does not exist (the caller decides whether that is an error).
        error: it cannot be opened or read, is not a regular file, has group/other permissions, or is
            larger than ``max_bytes`` bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"{label} {path} cannot be opened ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{label} {path} is not a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise error(f"{label} {path} has mode {mode:04o}; it must be 0600 or stricter (chmod 600)")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, max_bytes + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise error(f"{label} {path} is larger than {max_bytes} bytes")
    except OSError as exc:
        raise error(f"{label} {path} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    return b"".join(chunks)
