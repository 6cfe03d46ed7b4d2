"""The schema, as ordered migrations (migrations/vNN_*.sql). PRAGMA user_version records how many
have run; schema.sql is what they add up to.

Add a migration to change the schema; never edit one that has shipped, because databases in the
field were built by it.
"""
import sqlite3
import tempfile
from pathlib import Path

from sqlite_utils import Database

from feedback.storage.db import connect, write

# A rating's local day as a whole number of days since 1970-01-01, the key of the ratings' day
# index since V21. A query reaches that index only through this very expression, with ``{day}``
# the column (feedback.counts.ratings.on_days).
DAY_NUMBER = "CAST(julianday({day}) - 2440587.5 AS INTEGER)"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# one file a migration, vNN_what_it_does.sql, in the order they run
MIGRATIONS = [path.read_text(encoding="utf-8")
              for path in sorted(MIGRATIONS_DIR.glob("v[0-9][0-9]_*.sql"))]

# The schema as the migrations leave it, written out for a reader (`make schema`; a test checks it).
CURRENT = Path(__file__).with_name("schema.sql")

# Migrations that rebuild a table (SQLite's twelve steps), after which every reference is checked:
# a check that reads every referring row, so only when one of these ran.
REBUILDS_A_TABLE = {14}

# Migrations that edit sqlite_schema under writable_schema (SQLite's documented way to widen a
# CHECK without copying the table: sqlite.org/lang_altertable.html#otheralter); the schema
# version is bumped after them, so every connection reads the schema afresh.
EDITS_SQLITE_SCHEMA = {23, 26}


def version(db: Database) -> int:
    """How many migrations this database has had."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database, upto: int | None = None) -> int:
    """Bring the database up to date (or up to migration ``upto``), in one transaction.

    Safe to call from several processes at once: the IMMEDIATE lock makes the others wait,
    and they then find nothing left to do.
    """
    target = len(MIGRATIONS) if upto is None else upto
    # A migration may rebuild a table (SQLite's twelve steps: make the new one, copy, drop the
    # old, rename), which needs foreign keys off; they are checked before the commit instead
    # (REBUILDS_A_TABLE). The pragma does nothing inside a transaction, so it is set around it.
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        with write(db):
            current = version(db)
            if current > len(MIGRATIONS):
                raise RuntimeError(
                    f"the database is at schema version {current}, newer than this code "
                    f"({len(MIGRATIONS)}); upgrade the code before using it"
                )
            for number in range(current + 1, target + 1):
                for statement in _statements(MIGRATIONS[number - 1]):
                    db.execute(statement)
                if number in EDITS_SQLITE_SCHEMA:  # the last step of SQLite's procedure
                    schema_version = db.execute("PRAGMA schema_version").fetchone()[0]
                    db.execute(f"PRAGMA schema_version = {schema_version + 1}")
                db.execute(f"PRAGMA user_version = {number}")
            rebuilt = REBUILDS_A_TABLE & set(range(current + 1, target + 1))
            broken = db.execute("PRAGMA foreign_key_check").fetchall() if rebuilt else []
            if broken:
                raise RuntimeError(f"a migration broke {len(broken)} reference(s), first {broken[0]}")
    finally:
        db.execute("PRAGMA foreign_keys = ON")
    return version(db)


def _statements(script: str):
    """Split a migration into statements; executescript() would commit our transaction."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def dump(db: Database) -> str:
    """The schema of ``db`` as SQL, in the order its objects were made."""
    return "".join(f"{sql};\n\n" for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"))


def write_current() -> None:
    """Write schema.sql afresh from the migrations (`make schema`)."""
    with tempfile.TemporaryDirectory() as folder:
        fresh = connect(f"{folder}/schema.db")
        migrate(fresh)
        CURRENT.write_text(f"-- Made by `make schema` from migrations/ (version {version(fresh)}): "
                           "do not edit.\n\n" + dump(fresh), encoding="utf-8")
        fresh.close()


if __name__ == "__main__":
    write_current()
