"""gunicorn for production: `gunicorn -c gunicorn.conf.py` (docs/operator.md, "Running in production").

Threaded workers, so a few slow clients hold a few threads, not the service: gunicorn hands a
connection to a thread only once its request has begun to arrive, and a client that pauses for
FEEDBACK_BODY_READ_TIMEOUT seconds in its headers, its body or its answer is dropped
(web/server.py). In front, nginx buffers whole requests (deploy/nginx-station-feedback.conf), so
slow phones never reach gunicorn at all.
"""
import os
import shutil
import tempfile

wsgi_app = "app:create_app()"
bind = os.environ.get("FEEDBACK_BIND", "127.0.0.1:8000")
worker_class = "web.server.ThreadWorker"  # gthread, with a deadline on every read and write
workers = int(os.environ.get("FEEDBACK_WORKERS", "2"))
threads = int(os.environ.get("FEEDBACK_THREADS", "8"))
timeout = 60            # a worker silent this long is restarted
graceful_timeout = 30
keepalive = 5
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
accesslog = "-"
control_socket_disable = True  # gunicorn 27 would open a control socket under $HOME

# /metrics sums the workers' counters through prometheus-client's files in this folder (a
# systemd unit sets it under /run); it is emptied when gunicorn starts.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      os.path.join(tempfile.gettempdir(), f"station-feedback-metrics-{os.getpid()}"))


def on_starting(server):
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
