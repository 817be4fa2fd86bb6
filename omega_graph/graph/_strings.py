"""A compact store of many strings: one UTF-8 buffer and the offsets of its items.

A snapshot holds millions of edge ids. As Python strings they cost ~60 B each plus a list slot; here
an id costs its UTF-8 bytes, one separator byte and an 8-byte offset, and the store is two numpy
arrays that a cache file can hold and map as they are.

Layout: item ``i`` is ``buffer[starts[i] : starts[i + 1] - 1]``; each item is followed by one
separator byte ``sep`` (by default ``0x1f``, :data:`SEPARATOR`, the ASCII unit separator; a store
read from a file written by DuckDB ends its items with newlines), so when no item holds that byte
(``plain``) the whole store splits into a list in one C call.

Examples
--------
>>> s = StringStore.from_strings(["e1", "é2", ""])
>>> len(s), s[1], s.tolist()
(3, 'é2', ['e1', 'é2', ''])
>>> s.take([2, 0]).tolist(), s.append(["x"]).tolist()
(['', 'e1'], ['e1', 'é2', '', 'x'])
>>> t = s.append(["x"]).append(["y\x1fz"])  # appended items share the buffer, in a tail
>>> len(t), t[4], t.tail is not None, t.flat().tolist()[3:]
(5, 'y\\x1fz', True, ['x', 'y\\x1fz'])
>>> StringStore.from_strings(["a\\x1fb"]).tolist()  # an item holding the separator
['a\\x1fb']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SEPARATOR", "StringStore"]

SEPARATOR = "\x1f"
_SEP = 0x1F


@dataclass(frozen=True)
class StringStore:
    """``len(starts) - 1`` strings; see the module doc for the layout."""

    buffer: np.ndarray  # uint8
    starts: np.ndarray  # int64, one more than the items
    plain: bool = True  # no item holds the separator byte
    sep: int = _SEP  # the byte after each item
    tail: StringStore | None = None  # items appended since (see append), after these

    @classmethod
    def from_strings(cls, values: Iterable[str]) -> StringStore:
        """The store of ``values`` (a sequence of str), in order."""
        values = values if isinstance(values, Sequence) else list(values)
        if len(values) == 0:
            return cls(np.empty(0, dtype=np.uint8), np.zeros(1, dtype=np.int64))
        text = SEPARATOR.join(values) + SEPARATOR
        if text.count(SEPARATOR) != len(values):  # an item holds the separator
            return _slow(values)
        return cls.from_joined(text.encode("utf-8"), len(values))

    @classmethod
    def from_joined(cls, data: bytes | np.ndarray, count: int) -> StringStore:
        """The store of ``count`` items written as UTF-8, each followed by the separator byte.

        When some item holds the separator the positions are ambiguous: the caller then passes the
        items' byte lengths through :meth:`from_lengths` instead (this raises ``ValueError``).
        """
        buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
        ends = np.flatnonzero(buffer == _SEP)
        if len(ends) != count:
            raise ValueError(f"{len(ends)} separators for {count} items")
        starts = np.zeros(count + 1, dtype=np.int64)
        starts[1:] = ends + 1
        return cls(buffer, starts)

    @classmethod
    def from_lengths(
        cls, data: bytes | np.ndarray, lengths: np.ndarray, sep: int = _SEP, plain: bool | None = None
    ) -> StringStore:
        """The store of items of the given UTF-8 byte ``lengths``, each followed by the byte ``sep``.

        ``plain`` (no item holds ``sep``) is found by a pass over the bytes unless the caller knows it.
        """
        buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
        starts = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.asarray(lengths, dtype=np.int64) + 1, out=starts[1:])
        if starts[-1] != len(buffer):
            raise ValueError(f"lengths cover {int(starts[-1])} bytes of {len(buffer)}")
        if plain is None:
            plain = bool(np.count_nonzero(buffer == sep) == len(lengths))
        return cls(buffer, starts, plain, sep)

    def __len__(self) -> int:
        return len(self.starts) - 1 + (0 if self.tail is None else len(self.tail))

    def __getitem__(self, i: int) -> str:
        own = len(self.starts) - 1
        if i >= own and self.tail is not None:
            return self.tail[i - own]
        return self.buffer[self.starts[i] : self.starts[i + 1] - 1].tobytes().decode("utf-8")

    def at(self, positions: Iterable[int]) -> list[str]:
        """The items at ``positions``."""
        return [self[int(i)] for i in positions]

    def tolist(self) -> list[str]:
        """Every item, in order."""
        if self.tail is not None:
            return self.flat().tolist()
        if len(self) == 0:
            return []
        if self.plain:
            return self.buffer[: self.starts[-1] - 1].tobytes().decode("utf-8").split(chr(self.sep))
        return self.at(range(len(self)))

    def flat(self) -> StringStore:
        """The same items in one buffer (appended items included)."""
        if self.tail is None:
            return self
        tail = self.tail.flat()
        starts = np.concatenate([self.starts[:-1], tail.starts + self.starts[-1]])
        return StringStore(
            np.concatenate([self.buffer, tail.buffer]), starts, self.plain and tail.plain, self.sep
        )

    def take(self, positions: Sequence[int] | np.ndarray) -> StringStore:
        """A new store of the items at ``positions``, in that order (one pass over their bytes)."""
        if self.tail is not None:
            return self.flat().take(positions)
        pos = np.asarray(positions, dtype=np.int64)
        size = self.starts[pos + 1] - self.starts[pos]  # bytes with the separator
        starts = np.zeros(len(pos) + 1, dtype=np.int64)
        np.cumsum(size, out=starts[1:])
        source = np.repeat(self.starts[pos] - starts[:-1], size)
        source += np.arange(len(source), dtype=np.int64)
        return StringStore(self.buffer[source], starts, self.plain, self.sep)

    def append(self, values: Sequence[str]) -> StringStore:
        """A new store: these items, then ``values``. The (large) buffer is shared, not copied: the new
        items go to a small ``tail`` (a snapshot caught up through a few changes copies only those)."""
        if len(values) == 0:
            return self
        tail = _slow(values, self.sep) if self.tail is None else self.tail.append(values).flat()
        return StringStore(self.buffer, self.starts, self.plain, self.sep, tail)

    @property
    def nbytes(self) -> int:
        return int(self.buffer.nbytes + self.starts.nbytes) + (0 if self.tail is None else self.tail.nbytes)


def _slow(values: Sequence[str], sep: int = _SEP) -> StringStore:
    """Item by item: for items that may hold the separator (and the few of an append)."""
    encoded = [v.encode("utf-8") for v in values]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    end = bytes([sep])
    return StringStore.from_lengths(b"".join(e + end for e in encoded), lengths, sep)
