"""A change to moto's classes, made and undone as one: the attributes it replaces, and what
they were.

The offline stack installs each of its moto changes (`local/dynamodb_*.py`,
`local/moto_dispatch.py`, `local/s3_ranges.py`) when it starts. Each module's unit test
compares moto's answers with and without the change, so each change can be taken out for a
while and put back as it was, whether or not a stack in the same process installed it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_INHERITED = object()  # the attribute was not the class's own: uninstall deletes it again


class MotoPatch:
    def __init__(
        self,
        replacements: list[tuple[type, str, Any]],
        on_uninstall: Callable[[], None] | None = None,
    ) -> None:
        """`replacements`: (class, attribute, replacement); each original is read now, so
        build the patch before anything else replaces the same attributes."""
        self._replacements = replacements
        self._originals = [vars(owner).get(name, _INHERITED) for owner, name, _ in replacements]
        self._on_uninstall = on_uninstall

    def installed(self) -> bool:
        return all(vars(owner).get(name) is new for owner, name, new in self._replacements)

    def install(self) -> None:
        """Idempotent; for every instance of the classes in this process."""
        for owner, name, new in self._replacements:
            setattr(owner, name, new)

    def uninstall(self) -> None:
        for (owner, name, _), original in zip(self._replacements, self._originals, strict=True):
            if original is _INHERITED:
                if name in vars(owner):
                    delattr(owner, name)
            else:
                setattr(owner, name, original)
        if self._on_uninstall is not None:
            self._on_uninstall()

    @contextmanager
    def state(self, installed: bool) -> Iterator[None]:
        """Installed or not for the block, then as it was before."""
        was_installed = self.installed()
        if installed:
            self.install()
        else:
            self.uninstall()
        try:
            yield
        finally:
            if was_installed:
                self.install()
            else:
                self.uninstall()
