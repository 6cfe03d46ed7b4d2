"""Progress of long commands on a terminal: how many, how fast, how long still. Nothing at all
when the output is not a terminal (cron, a pipe, a log)."""
import sys
import time


class Progress:
    """One line, redrawn at most five times a second, then left as the summary."""

    EVERY = 0.2  # seconds between redraws

    def __init__(self, what: str, total: int | None = None, stream=None, clock=time.monotonic):
        self.what, self.total, self.clock = what, total, clock
        self.stream = stream or sys.stderr
        self.shown = self.stream.isatty()
        self.started = self.drawn = clock()
        self.count = 0

    def update(self, count: int, done: float | None = None) -> None:
        """``count`` done so far; ``done`` the share of the work done (0 to 1) when the total
        is not a count (a file read by bytes)."""
        self.count = count
        now = self.clock()
        if self.shown and now - self.drawn >= self.EVERY:
            self.drawn = now
            self.stream.write("\r" + self.line(now, done) + "\033[K")
            self.stream.flush()

    def line(self, now: float, done: float | None = None) -> str:
        """The progress line (a rule of its own, so it can be tested without a terminal)."""
        seconds = max(now - self.started, 1e-9)
        rate = self.count / seconds
        if done is None and self.total:
            done = self.count / self.total
        text = f"{self.what}: {self.count:,}" + (f" of {self.total:,}" if self.total else "")
        text += f" · {rate:,.0f}/s"
        if done and 0 < done < 1:
            text += f" · {int(seconds / done - seconds) // 60}:{int(seconds / done - seconds) % 60:02d} left"
        return text

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r" + self.line(self.clock(), 1.0) + "\033[K\n")
            self.stream.flush()
