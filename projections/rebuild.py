"""Rebuilding views from zero while the old ones keep serving.

1. Drop any leftover shadow tables and create fresh ones (`<table>__next`), tracked
   as `<view>@next` at position 0, with the next generation's index names.
2. A shadow projector replays the whole log into them, in batches, exactly as the
   live projector would (the same handlers, the same exactly-once transactions).
3. Once the shadows have caught up with the live views, one transaction swaps them
   in: compare-and-set on each live tracking row, drop the live tables, rename the
   shadows, and hand the shadows' positions to the live rows. Readers see the old
   tables until that commit and the new ones after it; a live projector that moved
   meanwhile makes the swap roll back, and the shadows catch up again first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from projections.base import ViewProjection
from projections.projector import SHADOW_MARK, Projector
from projections.store import ViewStore
from projections.tracking import PositionConflict, Tracking, now_text
from security.bootstrap import Ledger

REBUILD_BATCH = 5000
"""Events per batch of a rebuild: fewer transactions, compare-and-sets, round trips and
commits per event than the follower's batches; each batch is still one transaction."""

Progress = Callable[[int, int], None]
"""Called with (position reached, head of the log) as a rebuild advances."""


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did."""

    views: tuple[str, ...]
    position: int
    notifications: int
    generation: int


def _drop_shadows(store: ViewStore, projections: Sequence[ViewProjection]) -> None:
    tracking = Tracking(store)
    with store.transaction(commit=True) as cursor:
        for projection in projections:
            for table in projection.tables:
                store.dialect.execute(
                    cursor, f"DROP TABLE IF EXISTS {store.table(table.physical(True))}"
                )
            store.dialect.execute(
                cursor,
                f"DELETE FROM {tracking.table} WHERE name=?",
                (projection.name + SHADOW_MARK,),
            )


def _swap(store: ViewStore, projections: Sequence[ViewProjection], generation: int) -> bool:
    """Swap every shadow in, in one transaction; False when a live view is still ahead."""
    tracking = Tracking(store)
    d = store.dialect
    with store.transaction(commit=True) as cursor:
        # a write first: on SQLite it takes the write lock before anything is read
        d.execute(
            cursor,
            f"UPDATE {tracking.table} SET updated_at=? WHERE name=?",
            (now_text(), projections[0].name + SHADOW_MARK),
        )
        for projection in projections:
            shadow = tracking.get(projection.name + SHADOW_MARK, cursor)
            live = tracking.get(projection.name, cursor)
            assert shadow is not None
            if live is not None and live.position > shadow.position:
                return False
            if live is None:
                tracking.create(cursor, projection.name, generation, projection.schema_hash())
                live = tracking.get(projection.name, cursor)
                assert live is not None
            d.execute(
                cursor,
                f"UPDATE {tracking.table} SET position=?, generation=?, schema_hash=?, "
                "skipped=?, last_skipped=?, synced_at=?, updated_at=?, error=NULL "
                "WHERE name=? AND position=? AND generation=?",
                (
                    shadow.position,
                    generation,
                    projection.schema_hash(),
                    shadow.skipped,
                    shadow.last_skipped,
                    shadow.synced_at,
                    now_text(),
                    projection.name,
                    live.position,
                    live.generation,
                ),
            )
            if d.rowcount(cursor) != 1:
                raise PositionConflict(f"view {projection.name} moved during the swap")
            for table in projection.tables:
                d.execute(cursor, f"DROP TABLE IF EXISTS {store.table(table.name)}")
                d.execute(
                    cursor,
                    f"ALTER TABLE {store.table(table.physical(True))} RENAME TO {table.name}",
                )
            d.execute(
                cursor,
                f"DELETE FROM {tracking.table} WHERE name=?",
                (projection.name + SHADOW_MARK,),
            )
    return True


def rebuild(
    ledger: Ledger,
    store: ViewStore,
    projections: Sequence[ViewProjection],
    *,
    batch_size: int = REBUILD_BATCH,
    progress: Progress | None = None,
    setwise: bool = True,
) -> Rebuilt:
    """Rebuild `projections` from zero into shadow tables and swap them in atomically.

    Guarantees: until the swap commits, queries read the old views unchanged; after
    it, they read views equal to what incremental processing of the same events
    gives; the live views' positions never go backwards. `setwise=False` applies
    each event one statement at a time (the same rows; for comparisons).
    """
    tracking = Tracking(store)
    found = tracking.positions()
    generation = 1 + max(
        (found[p.name].generation for p in projections if p.name in found), default=1
    )
    _drop_shadows(store, projections)
    shadow = Projector(
        ledger, store, projections, shadow=True, batch_size=batch_size, setwise=setwise
    )
    # the shadow tables are filled without their secondary indexes, which are built once,
    # from the filled tables, before the swap: an index maintained through every insert
    # and update of a replay costs more than one built at the end
    shadow.install(generation=generation, indexes=False)
    notifications = 0

    def report(position: int) -> None:
        """Pass (position, head) to the progress callback."""
        if progress is not None:
            progress(position, ledger.app.recorder.max_notification_id() or 0)

    notifications += shadow.catch_up(report)
    shadow.create_indexes()
    while True:
        notifications += shadow.catch_up(report)
        try:
            if _swap(store, projections, generation):
                break
        except PositionConflict:
            continue
    position = min(
        p.position for p in tracking.positions().values() if p.name in {x.name for x in projections}
    )
    report(position)
    return Rebuilt(tuple(p.name for p in projections), position, notifications, generation)
