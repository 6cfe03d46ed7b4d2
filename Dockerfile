# The service in a container: gunicorn on port 8000, the database in /data (a volume).
# No browser and no test tools: those are for `make test` only (requirements-dev.txt).
FROM python:3.11-slim-bookworm

# Debian's CJK fonts for anything else on the image that draws Chinese; the posters carry
# their own font (noto-cjk-sans-otc, pinned in requirements.txt)
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /srv/station-feedback feedback
WORKDIR /srv/station-feedback
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py gunicorn.conf.py ./
COPY feedback feedback
COPY jobs jobs
COPY qr qr
COPY web web
COPY templates templates
COPY static static

ENV FEEDBACK_DATABASE=/data/feedback.db \
    FEEDBACK_BIND=0.0.0.0:8000 \
    FEEDBACK_SCHEDULER=off \
    FEEDBACK_LOG_FORMAT=json \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics
RUN mkdir /data && chown feedback /data
VOLUME /data
USER feedback
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
