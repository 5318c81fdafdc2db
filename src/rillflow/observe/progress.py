"""Progress bars for batches (``pip install 'rillflow[cli]'``, which installs rich).

    from rillflow.observe.progress import ProgressBars
    with ProgressBars() as bars:
        flow.run(shared, listeners=[bars])

Every batch node and batch flow (sequential or parallel) reports its item count and each finished item as
events; :class:`ProgressBars` is a listener that draws one rich progress bar per batch of at least
``min_items`` items, labelled with the batch's path. ``rillflow run`` uses it unless ``--no-progress``.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ..core.context import Path
from .events import Event, ItemEnd, Items, RunEnd

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["ProgressBars"]


def _rich_progress() -> Any:
    try:
        import rich.progress
    except ImportError as exc:
        raise ImportError(
            "rillflow.observe.progress needs the 'rich' package: pip install 'rillflow[cli]'"
        ) from exc
    return rich.progress


class ProgressBars:
    """A listener drawing a progress bar per batch of ``min_items`` items or more (to stderr by default).

    The bars are shown from the first batch on and stopped when the run ends (or the ``with`` block
    exits). ``transient=True`` clears them when they stop.
    """

    def __init__(
        self, console: Console | None = None, *, min_items: int = 2, transient: bool = False
    ) -> None:
        progress = _rich_progress()
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.min_items = min_items
        self.progress = progress.Progress(
            progress.TextColumn("{task.description}"),
            progress.BarColumn(),
            progress.MofNCompleteColumn(),
            progress.TimeElapsedColumn(),
            console=console,
            transient=transient,
        )
        self.tasks: dict[Path, Any] = {}
        self._shown = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, Items):
            if event.total >= self.min_items:
                if not self._shown:
                    self.progress.start()
                    self._shown = True
                self.tasks[event.path] = self.progress.add_task(event.where, total=event.total)
        elif isinstance(event, ItemEnd):
            task = self.tasks.get(event.path)
            if task is not None:
                self.progress.advance(task)
        elif isinstance(event, RunEnd):
            self.close()

    def close(self) -> None:
        """Stop drawing (the bars stay on screen unless ``transient``)."""
        if self._shown:
            self.progress.stop()
            self._shown = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
