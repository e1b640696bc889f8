"""fetch: obtain every artifact with a recorded checksum (built in issue #3/#4).

Not built yet: an honest placeholder that writes `status: not_implemented` and no numbers,
so every claim reading this stage's metrics is reported *not run*.
"""

from stages.common import write_not_implemented


def main() -> None:
    write_not_implemented("fetch")


if __name__ == "__main__":
    main()
