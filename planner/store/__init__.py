"""The store: what happened to the plans (published trips, boarding records, hand-overs, plan versions).

A real database through SQLAlchemy Core: SQLite by default (one file next to
the plans, WAL mode, a transaction for every write), PostgreSQL with
``--db postgresql://…``. The plan directories stay the interface of record for
the checker, the documents and the app; the store holds what happened to them.
Modules: :mod:`.schema` (tables and migrations), :mod:`.db` (opening and
transactions), :mod:`.frozen` (what of a trip is frozen), :mod:`.publish`,
:mod:`.boarding`, :mod:`.pickup_import` (ticked lists read back),
:mod:`.handover`, :mod:`.locks` (what replanning consumes), :mod:`.changes`
(``changes.csv``), :mod:`.legs_index` (the legs index a trace reads),
:mod:`.commands` and :mod:`.cli_support` (the ``planner`` subcommands).
See ``docs/daily-loop.md``.
"""
