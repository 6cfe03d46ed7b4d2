"""Progress on a terminal: count, rate and time left; nothing when not on one."""
import io

from feedback.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Ticks:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_line_says_how_many_how_fast_and_how_long_still():
    ticks = Ticks()
    progress = Progress("ratings read", total=None, stream=Terminal(), clock=ticks)
    ticks.now += 10
    progress.update(250_000, done=0.25)
    assert progress.line(ticks.now, 0.25) == "ratings read: 250,000 · 25,000/s · 0:30 left"
    counted = Progress("posters", total=200, stream=Terminal(), clock=ticks)
    ticks.now += 4
    counted.update(50)
    assert counted.line(ticks.now) == "posters: 50 of 200 · 12/s · 0:12 left"


def test_a_terminal_sees_the_line_redrawn_and_a_pipe_sees_nothing():
    ticks, terminal, pipe = Ticks(), Terminal(), io.StringIO()
    shown = Progress("ratings read", stream=terminal, clock=ticks)
    hidden = Progress("ratings read", stream=pipe, clock=ticks)
    for count in (10, 20, 30):
        ticks.now += 1
        shown.update(count)
        hidden.update(count)
    shown.finish()
    hidden.finish()
    assert terminal.getvalue().count("\r") == 4 and terminal.getvalue().endswith("\n")
    assert "ratings read: 30" in terminal.getvalue()
    assert pipe.getvalue() == ""
