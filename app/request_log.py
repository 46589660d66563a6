"""Request ids: every response carries X-Request-Id (the proxy's, when it sent a sane one, else a new
one), and every log line the app writes during the request names it, so an access-log line, an app
error and a user's report ("it said 'try again' at 10:02") can be matched across servers."""
import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-Id"
SANE = re.compile(r"[A-Za-z0-9._-]{8,64}")  # nginx's $request_id is 32 hex; never copy CR/LF into logs


_make_record = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs) -> logging.LogRecord:
    """Every log record, from any logger (the app's, SQLAlchemy's, the tasks'), knows its request."""
    record = _make_record(*args, **kwargs)
    record.request_id = g.get("request_id", "-") if has_request_context() else "-"
    return record


def setup(app: Flask) -> None:
    @app.before_request
    def take_request_id():
        offered = request.headers.get(HEADER, "")
        g.request_id = offered if SANE.fullmatch(offered) else uuid.uuid4().hex

    @app.after_request
    def give_request_id(resp):
        if "request_id" in g:
            resp.headers[HEADER] = g.request_id
        return resp

    logging.setLogRecordFactory(_record_with_request_id)
    default_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
