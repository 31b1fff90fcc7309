"""Signals: lists of async callbacks, frozen when the application starts."""

from __future__ import annotations

from typing import Any


class FrozenList(list[Any]):
    """A list that refuses changes once frozen (``app.middlewares`` and the signals)."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items)
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    def append(self, item: Any) -> None:
        self._check()
        super().append(item)

    def extend(self, items: Any) -> None:
        self._check()
        super().extend(items)

    def insert(self, index: Any, item: Any) -> None:
        self._check()
        super().insert(index, item)

    def remove(self, item: Any) -> None:
        self._check()
        super().remove(item)

    def __setitem__(self, index: Any, item: Any) -> None:
        self._check()
        super().__setitem__(index, item)

    def __delitem__(self, index: Any) -> None:
        self._check()
        super().__delitem__(index)

    def __iadd__(self, items: Any) -> Any:  # type: ignore[misc]
        self._check()
        return super().__iadd__(items)

    def __imul__(self, count: Any) -> Any:  # type: ignore[misc]
        self._check()
        return super().__imul__(count)

    def __hash__(self) -> int:  # type: ignore[override]
        # as frozenlist's: hashable once frozen, by its items
        if not self._frozen:
            raise RuntimeError("Cannot hash unfrozen list.")
        return hash(tuple(self))

    def pop(self, index: Any = -1) -> Any:
        self._check()
        return super().pop(index)

    def clear(self) -> None:
        self._check()
        super().clear()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._check()
        super().sort(*args, **kwargs)

    def reverse(self) -> None:
        self._check()
        super().reverse()

    def __repr__(self) -> str:
        return f"<FrozenList(frozen={self._frozen}, {list(self)!r})>"


class Signal(FrozenList):
    """``app.on_startup`` and friends: ``await signal.send(*args)`` calls each in turn."""

    def __init__(self, owner: object) -> None:
        super().__init__()
        self._owner = owner

    async def send(self, *args: Any, **kwargs: Any) -> None:
        if not self._frozen:
            raise RuntimeError("Cannot send non-frozen signal.")
        for receiver in self:
            await receiver(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner!r}, frozen={self._frozen}, {list(self)!r}>"

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other
