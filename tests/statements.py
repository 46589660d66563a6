"""Count the SQL statements a block of code runs (a page's cost must not grow with its rows)."""
from contextlib import contextmanager

from sqlalchemy import event


class Statements:
    """The statements seen while counting, in order."""

    def __init__(self):
        self.sql: list[str] = []

    def __len__(self) -> int:
        return len(self.sql)

    def __repr__(self) -> str:
        return f"{len(self.sql)} statements:\n  " + "\n  ".join(s[:160] for s in self.sql)


@contextmanager
def count_statements(engine):
    """with count_statements(db.engine) as seen: …; len(seen) is the number of statements run."""
    seen = Statements()

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.sql.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
