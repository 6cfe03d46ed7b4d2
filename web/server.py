"""The production server's worker: gunicorn's threaded worker, with a deadline on every read and
write of a connection, so a client that stops in the middle of its headers, its body or its
answer is dropped after FEEDBACK_BODY_READ_TIMEOUT seconds and gives its thread back; and
gunicorn's own answers to what never reaches the app (a malformed request line, a URI or
headers too long) carry the headers every answer of ours does.

gunicorn hands a connection to a thread once its first bytes arrive and then reads the headers
with no deadline of its own: 32 clients that send half a header block held every thread of both
workers (and /healthz) for as long as they liked. The deadline is the kernel's (SO_RCVTIMEO,
SO_SNDTIMEO), set once a connection: gunicorn switches the socket between blocking and not for
its poller, which would reset a deadline kept by Python.
"""
import html
import logging
import os
import socket
import struct

from gunicorn import util
from gunicorn.workers import gthread

from feedback.config import body_read_timeout, is_https
from web.edge import SECURITY_HEADERS, STRICT_TRANSPORT


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker (gunicorn.conf.py's worker_class), with read and write deadlines."""

    def init_process(self):
        seconds = body_read_timeout(os.environ)
        self.deadline = struct.pack("ll", seconds, 0)
        util.write_error = write_error  # gunicorn calls it for the requests it refuses itself
        logging.getLogger("gunicorn.error").addFilter(dropped_clients_in_a_line)
        super().init_process()

    def enqueue_req(self, conn):
        if not getattr(conn, "deadlined", False):
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, self.deadline)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, self.deadline)
            conn.deadlined = True
        super().enqueue_req(conn)


def write_error(sock, status: int, reason: str, message: str) -> None:
    """gunicorn's error answer (gunicorn.util.write_error), with our security headers."""
    body = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{status}</title>'
            f"<p>请求有误,无法处理。<br>{status} {html.escape(reason)}: "
            f"{html.escape(message)}</p></html>").encode()
    headers = [*SECURITY_HEADERS, *((STRICT_TRANSPORT,) if is_https(os.environ) else ())]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    util.write_nonblock(sock, (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
                               f"Content-Type: text/html; charset=utf-8\r\n{head}"
                               f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body)


def dropped_clients_in_a_line(record: logging.LogRecord) -> bool:
    """A client dropped at its deadline is a line in the log, not a traceback: gunicorn logs the
    kernel's EAGAIN from a read past SO_RCVTIMEO (or a write past SO_SNDTIMEO) as an error."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, (BlockingIOError, TimeoutError)):
        record.msg, record.args = "a client paused past FEEDBACK_BODY_READ_TIMEOUT: dropped", ()
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True
