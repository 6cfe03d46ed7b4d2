"""Run every benchmark: ``make bench`` or ``python -m bench [name…]``."""
import sys

from bench import finder, posters, province, rating_post, slow_link

BENCHMARKS = {"slow_link": slow_link.main, "rating_post": rating_post.main,
              "posters": posters.main, "province": province.main,
              "finder": finder.main}

if __name__ == "__main__":
    for name in sys.argv[1:] or BENCHMARKS:
        BENCHMARKS[name]()
