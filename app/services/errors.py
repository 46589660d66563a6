"""Refusals: one base for every "not possible now" a service answers with.

A `Refused` carries the reason for the user (`message`, lazy: it renders in the reader's language)
and the HTTP `status` the request answers with. Each area keeps its own subclass (RoundRefused,
OrderRefused, …) so callers may tell them apart; the web layer handles them all as `Refused`.
"""


class Refused(Exception):
    """Not possible now; `message` is for the user, `status` the answer's HTTP status (422 unless said)."""

    status = 422

    def __init__(self, message, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        """The message in the current locale (untranslated outside a request)."""
        return str(self.message)


class Conflict(Refused):
    """Someone else changed the same thing first (a stale version, a key taken at the same moment)."""

    status = 409
