"""Run every benchmark: ``make bench`` or ``python -m bench [name…]``."""
import sys

from bench import finder, national, posters, province, rating_post, slow_link

# `national` takes an hour and 15 GB: only when asked for (`make bench national`)
ONLY_WHEN_ASKED = {"national": national.main}
BENCHMARKS = {"slow_link": slow_link.main, "rating_post": rating_post.main,
              "posters": posters.main, "province": province.main,
              "finder": finder.main}

if __name__ == "__main__":
    for name in sys.argv[1:] or BENCHMARKS:
        {**BENCHMARKS, **ONLY_WHEN_ASKED}[name]()
